"""Benchmarks (run from the repository root; see bench/suite.py)."""
