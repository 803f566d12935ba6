"""Counts: windows, keys, idempotent count updates, the index, trending, queries."""
