"""The JSON Schemas of every topic payload (``*.schema.json``), shipped as package data so that an
installed newsstream finds them where it is installed; ``stream.schemas`` loads them."""
