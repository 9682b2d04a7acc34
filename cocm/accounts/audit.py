"""The audit log: who did what to which patient's record, when and from where.

Events form hash chains (45 CFR 164.312(b) audit controls, (c)(1) integrity; ONC
170.315(d)(2) tamper resistance), one per organization: each sealed event stores the
SHA-256 of its own content and of the event before it in its chain, and a head row per
chain names the last one. Changing, removing or reordering a row with raw SQL breaks the
chain, and `cocm audit verify` names the first broken event.

Appending is a plain insert that waits on no lock, so audited reads do not queue behind
each other; `seal_pending` (the worker, every pass; `cocm audit seal`; `cocm audit
verify` before it checks) chains the appended events in batches, in append order, one
transaction per batch. A seal killed half-way rolls back its batch: the events stay
appended and the next seal chains them, so none is lost or sealed twice.
"""

import hashlib
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest

from cocm.accounts.models import AuditChainHead, AuditEvent, BreakGlassGrant, User

GENESIS_HASH = "0" * 64


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address. Behind COCM_PROXY_COUNT trusted reverse proxies it is the
    address the outermost proxy saw, taken from X-Forwarded-For; else REMOTE_ADDR."""
    proxies = settings.COCM_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return valid_address(forwarded[-proxies])
    return valid_address(request.META.get("REMOTE_ADDR"))


def unnamed_client(*args: object) -> str:
    """How django-axes names a client in the application log: it does not (the audit log
    records who and from where)."""
    return "a client (see the audit log)"


def valid_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _address_key(value: object) -> str | None:
    # Databases print IPv6 addresses differently; the packed bytes are the same everywhere.
    return ipaddress.ip_address(str(value)).packed.hex() if value else None


def entry_digest(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the hash of the event before it."""
    content: dict[str, object] = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "user_id": event.user_id,
        "patient_id": event.patient_id,
        "action": event.action,
        "what": event.what,
        "object_id": event.object_id,
        "channel": event.channel,
        "remote_addr": _address_key(event.remote_addr),
        "previous_hash": event.previous_hash,
    }
    if event.chain:  # events of the one chain before per-organization chains had none
        content["chain"] = event.chain
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def _locked_head(chain: int) -> AuditChainHead:
    # On PostgreSQL the row lock makes concurrent seals wait for each other until their
    # transactions end; on SQLite the IMMEDIATE transaction already holds the write lock.
    head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is None:  # a new organization's chain, or an emptied database (tests flush it)
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(chain=chain)
        except IntegrityError:
            pass  # another seal created it first
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
    return head


SEAL_BATCH = 5000


def seal_pending(batch: int = SEAL_BATCH) -> int:
    """Chain every appended event not yet sealed, oldest first; returns how many."""
    sealed = 0
    while True:
        with transaction.atomic():
            _locked_head(AuditChainHead.SEAL_LOCK)  # one seal at a time
            pending = list(AuditEvent.objects.filter(sequence=None).order_by("id")[:batch])
            if not pending:
                return sealed
            heads = {chain: _locked_head(chain) for chain in sorted({e.chain for e in pending})}
            for event in pending:
                head = heads[event.chain]
                event.sequence = head.sequence + 1
                event.previous_hash = head.entry_hash
                event.entry_hash = entry_digest(event)
                head.sequence, head.entry_hash = event.sequence, event.entry_hash
            _write_seal(pending, list(heads.values()))
        sealed += len(pending)


def _write_seal(events: list[AuditEvent], heads: list[AuditChainHead]) -> None:
    # The seal's three columns, written once: a plain QuerySet, as the append-only
    # manager refuses updates.
    models.QuerySet(AuditEvent).bulk_update(
        events, ["sequence", "previous_hash", "entry_hash"], batch_size=500
    )
    AuditChainHead.objects.bulk_update(heads, ["sequence", "entry_hash"])


def record_access(
    request: HttpRequest,
    action: str,
    what: str,
    *,
    patient_id: int | None,
    object_id: int | None = None,
    channel: str = "web",
    user: User | None = None,
) -> None:
    """Append one audit event: who, when, which patient, what action, from where.

    A patient answering a self-report link has no account: the event has no user and the
    channel says "patient".
    """
    if user is None and getattr(request, "user", None) and request.user.is_authenticated:
        user = request.user
    request.audited = True  # type: ignore[attr-defined]  # AccessAuditMiddleware: done
    record_event(
        action,
        what,
        user=user,
        patient_id=patient_id,
        object_id=object_id,
        channel=channel,
        remote_addr=client_address(request),
    )


def record_event(
    action: str,
    what: str,
    *,
    user: User | None = None,
    patient_id: int | None = None,
    object_id: int | None = None,
    channel: str = "cli",
    remote_addr: str | None = None,
) -> AuditEvent:
    """Append an audit event that no web request carries (commands, sign-in signals)."""
    event = AuditEvent(
        chain=_chain_of(user, patient_id),
        user=user,
        patient_id=patient_id,
        action=action,
        what=what,
        object_id=object_id,
        channel=channel,
        remote_addr=valid_address(remote_addr),
    )
    event.save()
    return event


def _chain_of(user: User | None, patient_id: int | None) -> int:
    """The organization whose chain an event joins: the user's, else the patient's."""
    if user is not None and user.organization_id:
        return user.organization_id
    if patient_id is not None:
        # The registry sits above accounts: its patients come through the grant's relation.
        patients = BreakGlassGrant._meta.get_field("patient").related_model.objects  # type: ignore[union-attr]
        organization_id = (
            patients.filter(pk=patient_id).values_list("organization_id", flat=True).first()
        )
        return organization_id or 0
    return 0


def _model_for(kwarg: str) -> type[models.Model] | None:
    """The model a URL's `<name>_id` argument points at: the one named `name` (ignoring
    underscores), else the one whose name ends so (`alert_id` → SafetyAlert)."""
    name = kwarg.removesuffix("_id").replace("_", "")
    candidates = [m for m in apps.get_models() if m._meta.app_label not in {"auth", "admin"}]
    exact = [m for m in candidates if m._meta.model_name == name]
    if exact:
        return exact[0]
    ending = [m for m in candidates if m._meta.model_name.endswith(name)]
    return ending[0] if len(ending) == 1 else None


def _patient_path(model: type[models.Model]) -> str | None:
    if model._meta.model_name == "patient":
        return "pk"
    names = {field.name for field in model._meta.get_fields()}
    if "patient" in names:
        return "patient_id"
    if "episode" in names:
        return "episode__patient_id"
    return None


def patient_for_url(kwargs: dict[str, object]) -> tuple[int | None, int | None]:
    """The patient and object a URL such as /episodes/<episode_id>/… is about."""
    for key, value in kwargs.items():
        if not key.endswith("_id") or not isinstance(value, int):
            continue
        model = _model_for(key)
        path = _patient_path(model) if model else None
        if model is None or path is None:
            return None, value
        patient_id = model._default_manager.filter(pk=value).values_list(path, flat=True).first()
        return patient_id, value
    return None, None


@dataclass(frozen=True)
class ChainBreak:
    chain: int
    sequence: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"audit event #{self.sequence} of chain {self.chain}"
        if self.event_id is not None:
            where += f" (id {self.event_id})"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    events: int
    heads: dict[int, str]  # chain -> hash of its last event
    first_break: ChainBreak | None
    pending: int = 0  # appended, not yet sealed (verify seals first unless told not to)


def _chain_events(chain: int) -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.filter(chain=chain, sequence__isnull=False)
        .order_by("sequence")
        .iterator(chunk_size=2000)
    )


def _verify_one(chain: int, head: AuditChainHead | None) -> tuple[int, str, ChainBreak | None]:
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    count = 0
    for event in _chain_events(chain):
        problem = None
        if event.sequence != expected_sequence:
            problem = (
                f"event #{expected_sequence} is missing (deleted?); the next event is this one"
            )
        elif event.previous_hash != previous_hash:
            problem = "it does not follow the event before it (that one was changed or replaced)"
        elif entry_digest(event) != event.entry_hash:
            problem = "its content was changed after it was written"
        if problem:
            assert event.sequence is not None
            return count, previous_hash, ChainBreak(chain, event.sequence, event.id, problem)
        count += 1
        expected_sequence += 1
        previous_hash = event.entry_hash
    head_sequence, head_hash = (head.sequence, head.entry_hash) if head else (0, GENESIS_HASH)
    if (head_sequence, head_hash) != (count, previous_hash):
        problem = (
            f"the chain head names event #{head_sequence} but the log ends at #{count}: "
            "the last events were deleted or the head was changed"
        )
        return count, previous_hash, ChainBreak(chain, count + 1, None, problem)
    return count, previous_hash, None


def verify_chain(*, seal: bool = True) -> ChainReport:
    """Seal what is pending, then recompute every chain from its first event and report the
    first row that breaks one."""
    if seal:
        seal_pending()
    heads = {
        head.chain: head for head in AuditChainHead.objects.exclude(chain=AuditChainHead.SEAL_LOCK)
    }
    chains = set(heads) | set(
        AuditEvent.objects.filter(sequence__isnull=False)
        .order_by()
        .values_list("chain", flat=True)
        .distinct()
    )
    total, hashes = 0, {}
    pending = AuditEvent.objects.filter(sequence=None).count()
    for chain in sorted(chains):
        count, last_hash, first_break = _verify_one(chain, heads.get(chain))
        total += count
        hashes[chain] = last_hash
        if first_break is not None:
            return ChainReport(total, hashes, first_break, pending)
    return ChainReport(total, hashes, None, pending)


# Sign-in events (ONC 170.315(d)(2) auditable events), connected in AccountsConfig.ready.


def audit_sign_in(sender: object, request: HttpRequest, user: User, **kwargs: object) -> None:
    record_access(request, "sign_in", "sign-in", patient_id=None, user=user)


def audit_sign_out(
    sender: object, request: HttpRequest, user: User | None, **kwargs: object
) -> None:
    if user is not None:
        idle = getattr(request, "signed_out_idle", False)
        what = "automatic sign-out after inactivity" if idle else "sign-out"
        record_access(request, "sign_out", what, patient_id=None, user=user)


def audit_failed_sign_in(
    sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: object
) -> None:
    # The attempted username is not stored (it may be a mistyped password); a known
    # account is linked by its id.
    user = User.objects.filter(username=credentials.get("username") or "").first()
    record_event(
        "sign_in_failed",
        "sign-in failed",
        user=user,
        channel="web",
        remote_addr=client_address(request) if request is not None else None,
    )
