"""Benchmarks on a seeded population: `cocm bench` times them and writes BENCHMARKS.md.

`harness` holds the registry, the timing and the report; `benchmarks` holds the benchmarks.
"""
