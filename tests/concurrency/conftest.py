"""The care tests' clinic, care team and enrolled episode."""

from tests.care.conftest import care_manager, clinic, consultant, episode, pcp

__all__ = ["care_manager", "clinic", "consultant", "episode", "pcp"]
