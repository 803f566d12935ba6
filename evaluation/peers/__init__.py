"""Peers run beside newsstream in the benchmarks, each in its own environment."""
