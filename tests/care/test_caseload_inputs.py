"""Every table the caseload tracker reads is either covered by the stored rows' invalidation
(cocm/care/caseload.py `_WRITES`) or read live / through the rules key, for a reason given
here. A new input added to the tracker without invalidation fails this test."""

import re
from datetime import date

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocm.accounts.models import Role
from cocm.care.billing_figures import month_figures
from cocm.care.caseload import _WRITES
from cocm.care.tracker import flag_rules, tracker_rows
from cocm.registry.models import Episode
from tests import factories

pytestmark = pytest.mark.django_db

# Read by the tracker, deliberately not invalidating stored rows:
READ_WITHOUT_INVALIDATION = {
    # names are read live with the episode ids, never stored (caseload.py docstring)
    "registry.Patient": "names and MRN read live",
    "accounts.User": "care manager's name read live",
    "accounts.Membership": "who may see the row, not what it holds",
    "accounts.Organization": "its today() is the row's as_of, part of what makes it current",
    # settings: part of the rules key, a change recomputes every row
    "care.CareSettings": "flag thresholds are in the rules key",
    "billing.BillingSettings": "billing rules are in the rules key",
    "billing.PayerRule": "payer rules are in the rules key",
}
TABLE = re.compile(r'(?:FROM|JOIN)\s+"?([a-z_0-9]+)"?', re.IGNORECASE)


def tables_read(sql: list[str]) -> set[str]:
    return {table for statement in sql for table in TABLE.findall(statement)}


def test_every_input_of_the_tracker_invalidates_the_stored_rows():
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    organization = clinic.organization
    by_table = {model._meta.db_table: model for model in apps.get_models()}

    with CaptureQueriesContext(connection) as queries:
        tracker_rows(
            Episode.objects.filter(pk=episode.pk),
            date(2026, 11, 23),
            flag_rules(organization),
            month_figures(organization),
        )

    read = {
        by_table[t]._meta.label for t in tables_read([q["sql"] for q in queries]) if t in by_table
    }
    invalidated = {model._meta.label for model in _WRITES}
    assert "measures.Assessment" in read  # the capture sees the tracker's inputs
    assert read - invalidated - set(READ_WITHOUT_INVALIDATION) == set()
