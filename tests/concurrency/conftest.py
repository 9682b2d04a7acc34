"""The care tests' enrolled episode (the clinic and its care team are the suite's shared
fixtures, tests/conftest.py)."""

from tests.care.conftest import episode

__all__ = ["episode"]
