"""Benchmarks: `python -m bench.<name>`, or `python -m bench` for all of them."""
