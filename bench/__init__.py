"""Benchmarks, run on demand (`healthbot bench`, `python -m bench.digest`), never as timed tests."""
