"""newsstream: clean news articles, extract entities and count mentions on Kafka."""

import os
from pathlib import Path

# One process works on one core (the worker scales by processes and partitions). numpy's
# OpenBLAS otherwise starts a spinning thread per core at import, which costs more CPU time
# at start-up than langid's small matrix products ever gain from it.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
# Every payload newsstream writes carries this; a consumer checks it before reading on.
SCHEMA_VERSION = 1
PIPELINE_VERSION = f"newsstream/{__version__}"

# The committed models, gazetteer and alias table (package data).
DATA_DIR = Path(__file__).resolve().parent / "data"
