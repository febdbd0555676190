"""Benchmarks of this project; run each from the repository root as ``python -m benchmarks.<name>``."""
