"""Issue 18 item 1: the caseload tracker, the PCP list and the review agenda filter, sort and
page in the database over the stored rows; a page reads only its rows, so the queries of a
page do not grow with the population."""

from datetime import date

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cocm.accounts.models import Role
from cocm.care import caseload
from cocm.care.caseload import FLAG_COLUMNS, SORTABLE, column_order
from cocm.care.caseload_table import caseload_table
from cocm.care.models import CaseloadRow
from cocm.domain.flags import FlagCode
from cocm.registry.models import Episode
from tests import factories

pytestmark = pytest.mark.django_db

D_LOW, D_MID = date(2026, 9, 1), date(2026, 10, 2)
# The stored values of patients A, B and C: A in the middle, B empty (or highest where a
# column is never empty), C lowest.
VALUES = {
    "date": (D_MID, None, D_LOW),
    "int": (5, None, 1),
    "float": (-10.0, None, -60.0),
    "text": ("2026-10", "", "2026-09"),
    "count": (5, 9, 1),
}
KINDS = {
    **dict.fromkeys(
        [
            "referred_on",
            "enrolled_on",
            "twelve_weeks_on",
            "last_contact_on",
            "last_measure_on",
            "last_review_on",
        ],
        "date",
    ),
    **dict.fromkeys(
        [
            "weeks_in_treatment",
            "days_since_contact",
            "phq9_first",
            "phq9_last",
            "gad7_first",
            "gad7_last",
            "weeks_to_remission",
            "minutes_to_next_threshold",
        ],
        "int",
    ),
    **dict.fromkeys(["phq9_change", "gad7_change"], "float"),
    **dict.fromkeys(["payer", "first_billable_month", "phq9_target", "gad7_target"], "text"),
    **dict.fromkeys(["contacts", "no_shows", "minutes_this_month"], "count"),
}
# Literal orders (ascending, descending) of A, B and C by each column. Empty values come last
# either way; equal values keep the episodes' order (A, B, C were opened in that order).
EXPECTED = {
    "patient_name": ("ABC", "CBA"),
    "mrn": ("CAB", "BAC"),
    "status_label": ("ACB", "BCA"),  # Active, Enrolled, Referred
    "clinic": ("CAB", "ABC"),  # Alpha; Beta, Beta
    "care_manager": ("CAB", "ACB"),  # Alex; Test; none
    "relapse_plan": ("BCA", "ABC"),  # no, no; yes
    **{key: ("CAB", "ACB") for key, kind in KINDS.items() if kind != "count"},
    **{key: ("CAB", "BAC") for key, kind in KINDS.items() if kind == "count"},
}


@pytest.fixture
def abc(clinic, care_manager):
    """Three current stored rows with the values above, of three clinics' patients."""
    clinic.name = "Beta"
    clinic.save()
    alpha = factories.clinic(clinic.organization, name="Alpha")
    factories.add_role(care_manager, Role.CARE_MANAGER, alpha)
    alex = factories.user(Role.CARE_MANAGER, alpha)
    alex.first_name = "Alex"
    alex.save()
    people = [("Adams", "Ann", "M-2"), ("Baker", "Bob", "M-3"), ("Cole", "Cy", "M-1")]
    episodes = []
    for (family, given, mrn), where, manager in zip(
        people, (clinic, clinic, alpha), (care_manager, care_manager, alex), strict=True
    ):
        patient = factories.patient(
            clinic.organization, family_name=family, given_name=given, mrn=mrn
        )
        episodes.append(factories.episode(where, manager, the_patient=patient))
    Episode.objects.filter(id=episodes[1].id).update(care_manager=None)
    caseload.mark_changed(Episode.objects.filter(id=episodes[1].id))
    caseload.organization_caseload_rows(clinic.organization, Episode.objects.all())
    for index, (episode, status, plan) in enumerate(
        zip(episodes, ("active", "referred", "enrolled"), (True, False, False), strict=True)
    ):
        CaseloadRow.objects.filter(episode=episode).update(
            status=status,
            relapse_plan=plan,
            **{key: VALUES[kind][index] for key, kind in KINDS.items()},
        )
    return episodes


def table(user, **query):
    asked = QueryDict(mutable=True)
    for name, value in {"care_manager": "", **query}.items():
        asked[name] = value
    return caseload_table(user, asked)


def letters(rows):
    return "".join(row.patient_name[0] for row in rows)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_column_sorts_in_the_database_either_way(abc, care_manager, key):
    ascending = table(care_manager, sort=key).rows
    descending = table(care_manager, sort=key, dir="desc").rows

    assert (letters(ascending), letters(descending)) == EXPECTED[key]


def test_every_sortable_column_has_an_expected_order():
    assert set(EXPECTED) == SORTABLE
    with pytest.raises(ValueError, match="flags"):
        column_order("flags")


def test_every_flag_has_a_column_the_filter_reads():
    columns = {field.name for field in CaseloadRow._meta.get_fields()}

    assert set(FLAG_COLUMNS) == set(FlagCode)
    assert set(FLAG_COLUMNS.values()) <= columns


def test_a_flag_filters_the_rows_and_a_safety_alert_stays_on_top(abc, care_manager):
    first, second, third = abc
    CaseloadRow.objects.filter(episode__in=[first, third]).update(flag_no_contact=True)
    CaseloadRow.objects.filter(episode=second).update(open_alert=True)

    flagged = table(care_manager, flag="no_contact", sort="patient_name", dir="desc").rows
    by_name = table(care_manager, sort="patient_name", dir="desc").rows

    assert letters(flagged) == "CA"
    assert letters(by_name) == "BCA"


def test_a_bad_filter_is_ignored_and_named(abc, care_manager):
    shown = table(care_manager, clinic="x", flag="nonsense", sort="patient_name")

    assert letters(shown.rows) == "ABC"
    assert shown.ignored == [
        "'clinic' must be a whole number, not 'x'. That filter was ignored.",
        "'flag' has no value 'nonsense'. That filter was ignored.",
    ]


def test_the_scope_filters_read_the_episodes(abc, care_manager):
    alpha = abc[2].clinic

    assert letters(table(care_manager, clinic=str(alpha.id)).rows) == "C"
    assert letters(table(care_manager, care_manager="me").rows) == "A"


def test_stale_rows_are_computed_before_the_page_reads_them(abc, care_manager):
    CaseloadRow.objects.filter(episode=abc[0]).update(generation=99)

    rows = {row.patient_name: row for row in table(care_manager).rows}

    assert rows["Adams, Ann"].weeks_in_treatment is None  # recomputed: not enrolled
    assert rows["Cole, Cy"].weeks_in_treatment == 1  # stored as it was


def grow(clinic, care_manager, count):
    for _ in range(count):
        factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))


def queries(client, path, **query):
    """The queries of a request whose rows are current (an export's, streamed, included)."""
    client.get(path, query)  # computes the new rows, as the worker would have
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
        if response.streaming:
            response.content_lines = b"".join(response.streaming_content).splitlines()
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize(
    "query",
    [
        {"care_manager": ""},
        {"care_manager": "", "flag": "no_contact", "sort": "minutes_this_month", "dir": "desc"},
        {"care_manager": "", "sort": "patient_name", "export": "csv"},
    ],
    ids=["organization", "flag and sort", "export"],
)
def test_the_caseload_reads_the_same_queries_at_two_sizes(
    client, monkeypatch, clinic, care_manager, query
):
    from cocm.care import views

    monkeypatch.setattr(views, "CASELOAD_PAGE_ROWS", 2)
    monkeypatch.setattr(caseload, "BATCH", 100)
    client.force_login(care_manager)
    grow(clinic, care_manager, 3)
    few, small = queries(client, reverse("caseload"), **query)
    grow(clinic, care_manager, 12)
    many, large = queries(client, reverse("caseload"), **query)

    assert few == many
    if "export" in query:
        assert (len(small.content_lines), len(large.content_lines)) == (1 + 3, 1 + 15)
    else:
        assert len(large.context["rows"]) == 2
        assert large.context["total"] == 15


def test_the_pcp_list_and_the_review_agenda_read_the_same_queries_at_two_sizes(
    client, monkeypatch, clinic, care_manager, consultant, pcp
):
    from cocm.care import views

    monkeypatch.setattr(views, "PCP_PAGE_ROWS", 2)
    monkeypatch.setattr(views, "AGENDA_PAGE_ROWS", 2)

    def referred(count):
        for _ in range(count):
            episode = factories.episode(
                clinic, care_manager, consent_on=date(2026, 9, 1), psychiatric_consultant=consultant
            )
            episode.referring_pcp = pcp
            episode.save()

    referred(3)
    client.force_login(pcp)
    pcp_few, _ = queries(client, reverse("pcp_patients"))
    client.force_login(consultant)
    agenda_few, _ = queries(client, reverse("review_agenda"))
    referred(9)
    client.force_login(pcp)
    pcp_many, pcp_page = queries(client, reverse("pcp_patients"))
    client.force_login(consultant)
    agenda_many, agenda_page = queries(client, reverse("review_agenda"))

    assert (pcp_few, agenda_few) == (pcp_many, agenda_many)
    assert len(pcp_page.context["rows"]) == 2
    assert "12 open episodes · rows 1–2" in pcp_page.content.decode()
    assert len(agenda_page.context["agenda"]) == 2
    assert "12 to discuss of 12 open episodes" in agenda_page.content.decode()


def test_the_review_page_numbers_the_patient_on_the_agenda_in_the_database(
    client, clinic, care_manager, consultant
):
    episodes = [
        factories.episode(
            clinic, care_manager, consent_on=date(2026, 9, 1), psychiatric_consultant=consultant
        )
        for _ in range(3)
    ]
    client.force_login(consultant)
    agenda = client.get(reverse("review_agenda")).context["agenda"]
    middle = agenda[1].episode_id

    page = client.get(reverse("review_patient", args=[middle]))

    assert [row.episode_id for row in agenda] == [e.id for e in episodes]
    assert (page.context["position"], page.context["agenda_length"]) == (2, 3)
    assert page.context["following"].episode_id == agenda[2].episode_id
