"""Benchmarks, run by ``make bench``. Every benchmark measures its baseline in the same run."""
