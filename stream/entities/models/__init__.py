"""Entity models behind :class:`stream.entities.spans.TokenTagger`: CRF, e5 (ONNX), spaCy."""
