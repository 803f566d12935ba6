"""Quality and speed measurements of the stages, run from outside like a user would."""
