"""Language of an article's text: py3langid (offline, ~1 ms per article)."""

from __future__ import annotations

import contextlib
import io
import mmap
import pickle
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import py3langid
from py3langid.langid import LanguageIdentifier

from stream.cache import cache_dir, write_atomically
from stream.clean.internals import load_langid_identifier

UNDETERMINED = "und"
MIN_CHARS = 20
# Indonesian and Malay share most of their vocabulary; on short Indonesian news text langid
# often ranks Malay first by a small margin. This stream is Indonesian news, so a close call
# between the two goes to Indonesian.
_CLOSE_CALL = 0.25


@cache
def _identifier() -> Any:
    """The langid model. Unpacking its xz-compressed file costs ~0.6 s per process start, so
    an unpacked copy goes to the user's cache on first use. Its two big tables (the 39 MB
    state machine and the 28 MB feature weights) are memory-mapped from there: a process
    touches only the pages its texts walk through instead of reading both whole."""
    version = getattr(py3langid, "__version__", "0")
    folder = cache_dir() / f"langid-{version}"
    with contextlib.suppress(OSError, ValueError, pickle.UnpicklingError, EOFError):
        return _mapped_identifier(folder)
    identifier = load_langid_identifier()
    _write_mapped(identifier, folder)
    return identifier


def _mapped_identifier(folder: Path) -> Any:
    rest = pickle.loads((folder / "rest.pickle").read_bytes())
    weights = np.load(folder / "nb_ptc.npy", mmap_mode="r")
    with (folder / "tk_nextmove.bin").open("rb") as handle:
        nextmove = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)).cast("I")
    return LanguageIdentifier(weights, rest["nb_pc"], rest["nb_classes"], nextmove,
                              rest["tk_output"], norm_probs=True, tk_row=rest["tk_row"])


def _write_mapped(identifier: Any, folder: Path) -> None:
    if identifier.tk_nextmove.itemsize != 4:  # the mapped copy is read as 32-bit states
        return
    rest = {"nb_pc": identifier.nb_pc, "nb_classes": identifier.nb_classes,
            "tk_output": identifier.tk_output, "tk_row": identifier.tk_row}
    weights = io.BytesIO()
    np.save(weights, np.ascontiguousarray(identifier.nb_ptc))
    # rest.pickle is written last: its presence says the folder is complete.
    write_atomically(folder / "nb_ptc.npy", weights.getvalue())
    write_atomically(folder / "tk_nextmove.bin", identifier.tk_nextmove.tobytes())
    write_atomically(folder / "rest.pickle", pickle.dumps(rest, protocol=5))


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of ``text``; the crawler's hint decides only when the text is too short."""
    sample = text[:1000]
    if len(sample.strip()) < MIN_CHARS:
        return hint.lower()[:2] if hint else UNDETERMINED
    ranking = _identifier().rank(sample)
    best, best_p = ranking[0]
    if best == "ms":
        indonesian = next((p for lang, p in ranking[:3] if lang == "id"), 0.0)
        if indonesian >= _CLOSE_CALL * best_p:
            return "id"
    return str(best)
