"""Benchmarks, run as scripts (``make bench``); a package only so mypy names them apart."""
