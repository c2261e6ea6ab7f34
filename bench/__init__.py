"""Benchmarks against peers, measured as ratios in the same run (see bench/README.md)."""
