"""The value sets of each eCQM package, shipped in cocm/reports/data/ecqm/<package>/valuesets/.

Each file is a published FHIR ValueSet with its VSAC expansion; it is loaded whole and
keyed by its canonical URL exactly as written in the file (the measures look value sets
up by the URL their CQL declares, so a missing or misspelt URL fails loudly).
"""

import json
from functools import cache
from importlib import resources

from cocm.domain.clinical import ValueSets


@cache
def package_valuesets(package: str) -> ValueSets:
    """Every value set of a package folder (e.g. "mp2025"), URL → {(system, code)}."""
    folder = resources.files("cocm.reports") / "data" / "ecqm" / package / "valuesets"
    found: ValueSets = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        body = json.loads(entry.read_text(encoding="utf-8"))
        members = frozenset(
            (c["system"], c["code"]) for c in body.get("expansion", {}).get("contains", [])
        )
        found[body["url"]] = members
    if not found:
        raise FileNotFoundError(f"no value sets in package {package}")
    return found
