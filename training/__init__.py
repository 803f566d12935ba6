"""Training the entity models from ../shared/data/ner (never imported by the runtime)."""
