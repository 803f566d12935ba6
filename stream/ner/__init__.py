"""Named-entity recognition: tokeniser, features, taggers and the trainer."""
