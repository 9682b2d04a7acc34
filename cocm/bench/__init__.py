"""Benchmarks on a seeded population: `cocm bench` times them and writes BENCHMARKS.md.

`harness` holds the registry, the timing and the report; `benchmarks` holds the benchmarks.
The app also hosts `cocm seed` (the demo population, cocm/population.py): both fill or read
every app, so they sit above them all.
"""
