"""Ingest: raw Kafka records decoded and validated, URLs normalised, dead letters built."""
