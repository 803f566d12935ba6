"""Entities: tokens, the tagger interface, mentions, canonical names and ids; models/."""
