"""newsstream: clean news articles, extract entities and count mentions on Kafka."""

__version__ = "0.1.0"
