from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cocm.accounts.audit import (
    GENESIS_HASH,
    entry_digest,
    record_event,
    seal_pending,
    verify_chain,
)
from cocm.accounts.models import AppendOnly, AuditEvent, Role
from tests import factories

pytestmark = pytest.mark.django_db


def three_events() -> list[AuditEvent]:
    events = [record_event("view", "chart", patient_id=n, channel="web") for n in (11, 12, 13)]
    seal_pending()
    return [AuditEvent.objects.get(pk=event.pk) for event in events]


def raw_sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_it_chains_each_event_to_the_one_before():
    three_events()

    rows = list(AuditEvent.objects.order_by("id"))

    assert [row.sequence for row in rows] == [1, 2, 3]
    assert rows[0].previous_hash == GENESIS_HASH
    assert rows[1].previous_hash == rows[0].entry_hash
    assert rows[2].previous_hash == rows[1].entry_hash
    assert all(entry_digest(row) == row.entry_hash for row in rows)


def test_verify_reports_an_intact_log_and_its_head_hash():
    events = three_events()
    out = StringIO()

    call_command("audit", "verify", stdout=out)

    assert (
        f"Audit log intact: 3 events in 1 chain(s); head hashes chain 0: {events[-1].entry_hash}"
        in out.getvalue()
    )


def test_verify_names_an_event_edited_with_raw_sql():
    events = three_events()
    raw_sql("UPDATE accounts_auditevent SET patient_id = 99 WHERE sequence = 2")

    with pytest.raises(
        CommandError, match=rf"#2 of chain 0 \(id {events[1].id}\): its content was changed"
    ):
        call_command("audit", "verify")


def test_verify_names_the_row_after_an_edit_whose_hash_was_recomputed():
    events = three_events()
    forged = AuditEvent.objects.get(sequence=2)
    forged.what = "nothing to see"
    raw_sql(
        "UPDATE accounts_auditevent SET what = %s, entry_hash = %s WHERE sequence = 2",
        forged.what,
        entry_digest(forged),
    )

    with pytest.raises(
        CommandError, match=rf"#3 of chain 0 \(id {events[2].id}\): it does not follow"
    ):
        call_command("audit", "verify")


def test_verify_notices_an_event_deleted_from_the_middle():
    three_events()
    raw_sql("DELETE FROM accounts_auditevent WHERE sequence = 2")

    with pytest.raises(CommandError, match="event #2 is missing"):
        call_command("audit", "verify")


def test_verify_notices_the_last_events_deleted():
    three_events()
    raw_sql("DELETE FROM accounts_auditevent WHERE sequence = 3")

    report = verify_chain()

    assert report.first_break is not None
    assert "the chain head names event #3 but the log ends at #2" in str(report.first_break)


def test_the_model_refuses_to_change_an_event():
    event = record_event("view", "chart", patient_id=1)
    event.what = "changed"

    with pytest.raises(AppendOnly):
        event.save()


def test_the_model_refuses_to_delete_events():
    event = record_event("view", "chart", patient_id=1)

    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.update(what="changed")
    assert AuditEvent.objects.get(pk=event.pk).what == "chart"


def test_events_cannot_be_bulk_inserted_outside_the_chain():
    with pytest.raises(AppendOnly):
        AuditEvent.objects.bulk_create([AuditEvent(action="view", what="x")])


def test_the_chain_survives_an_ipv6_address():
    record_event("view", "chart", patient_id=1, remote_addr="2001:DB8:0:0:0:0:0:1")
    record_event("view", "chart", patient_id=1, remote_addr="::ffff:192.0.2.1")

    assert verify_chain().first_break is None


def test_an_event_is_appended_unsealed_and_the_seal_chains_it_once():
    event = record_event("view", "chart", patient_id=1)

    assert (event.sequence, event.entry_hash) == (None, "")
    assert seal_pending() == 1
    assert seal_pending() == 0
    sealed = AuditEvent.objects.get(pk=event.pk)
    assert sealed.sequence == 1
    assert sealed.entry_hash == entry_digest(sealed)


def test_verify_seals_what_is_pending_unless_told_not_to():
    record_event("view", "chart", patient_id=1)
    out = StringIO()

    call_command("audit", "verify", "--no-seal", stdout=out)
    assert "0 events in 1 chain(s); 1 not yet sealed" in out.getvalue()

    call_command("audit", "verify", stdout=out)
    assert "1 events in 1 chain(s)" in out.getvalue()


def test_each_organization_has_its_own_chain():
    first = factories.user(Role.CARE_MANAGER, factories.clinic(factories.organization("A")))
    second = factories.user(Role.CARE_MANAGER, factories.clinic(factories.organization("B")))
    for user in (first, second, first):
        record_event("view", "caseload", user=user)
    seal_pending()

    chains = AuditEvent.objects.order_by("id").values_list("chain", "sequence")

    assert list(chains) == [
        (first.organization_id, 1),
        (second.organization_id, 1),
        (first.organization_id, 2),
    ]
    assert verify_chain().first_break is None


def test_a_tampered_event_is_named_with_its_organizations_chain():
    user = factories.user(Role.CARE_MANAGER, factories.clinic())
    record_event("view", "caseload", user=user)
    seal_pending()
    raw_sql(
        "UPDATE accounts_auditevent SET what = 'nothing' WHERE chain = %s", user.organization_id
    )

    report = verify_chain()

    assert report.first_break is not None
    assert report.first_break.chain == user.organization_id
    assert "its content was changed" in str(report.first_break)
