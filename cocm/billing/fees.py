"""Fee schedules from CSV: year, payer_kind, code, amount[, source]."""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from cocm.billing.models import FeeSchedule
from cocm.errors import InvalidRequest
from cocm.registry.models import PayerKind

SHIPPED = Path(__file__).parent / "data" / "medicare-national-2025.csv"
REQUIRED = ("year", "payer_kind", "code", "amount")


def parse_fees(text: str) -> list[FeeSchedule]:
    """Rows of a fee-schedule CSV; any bad row is refused, naming its line and field."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        raise InvalidRequest(f"The CSV lacks the column(s): {', '.join(missing)}.", "header")
    fees = []
    for line, row in enumerate(reader, start=2):
        try:
            year = int(row["year"])
        except ValueError:
            raise InvalidRequest(
                f"Line {line}: year '{row['year']}' is not a year.", "year"
            ) from None
        if not 2017 <= year <= 2100:
            raise InvalidRequest(f"Line {line}: year {year} is out of range.", "year")
        if row["payer_kind"] not in PayerKind.values:
            raise InvalidRequest(
                f"Line {line}: payer_kind '{row['payer_kind']}' is not one of "
                f"{', '.join(PayerKind.values)}.",
                "payer_kind",
            )
        code = (row["code"] or "").strip().upper()
        if not code or len(code) > 8:
            raise InvalidRequest(f"Line {line}: code '{row['code']}' is not a code.", "code")
        try:
            amount = Decimal(row["amount"]).quantize(Decimal("0.01"))
        except (InvalidOperation, TypeError):
            raise InvalidRequest(
                f"Line {line}: amount '{row['amount']}' is not a number.", "amount"
            ) from None
        if amount < 0:
            raise InvalidRequest(f"Line {line}: amount {amount} is negative.", "amount")
        fees.append(
            FeeSchedule(
                year=year,
                payer_kind=row["payer_kind"],
                code=code,
                amount=amount,
                source=(row.get("source") or "")[:200],
            )
        )
    return fees


def load_fees(text: str) -> int:
    """Insert or replace the fees of a CSV (the caller owns the transaction)."""
    fees = parse_fees(text)
    for fee in fees:
        FeeSchedule.objects.update_or_create(
            year=fee.year,
            payer_kind=fee.payer_kind,
            code=fee.code,
            defaults={"amount": fee.amount, "source": fee.source, "illustrative": False},
        )
    return len(fees)


# Made-up amounts for the demo population, so that its worklist shows expected revenue.
# They are NOT Medicare's, Medicaid's or any payer's fees (docs/demo-data.md).
ILLUSTRATIVE_SOURCE = "ILLUSTRATIVE demo amount (cocm seed): not Medicare's or any payer's fee"
ILLUSTRATIVE_AMOUNTS = {
    "99492": Decimal("150.00"),
    "99493": Decimal("130.00"),
    "99494": Decimal("60.00"),
    "G2214": Decimal("50.00"),
    "99484": Decimal("50.00"),
    "G0512": Decimal("140.00"),
}
ILLUSTRATIVE_PAYERS = ("medicare", "medicaid", "commercial", "self_pay")


def load_illustrative_fees(years: Iterable[int]) -> int:
    """Fill the demo's illustrative fees for the years, where no fee is on file (a real
    schedule loaded earlier is never replaced). Returns the number added."""
    added = 0
    for year in sorted(set(years)):
        for payer_kind in ILLUSTRATIVE_PAYERS:
            for code, amount in ILLUSTRATIVE_AMOUNTS.items():
                _, created = FeeSchedule.objects.get_or_create(
                    year=year,
                    payer_kind=payer_kind,
                    code=code,
                    defaults={
                        "amount": amount,
                        "source": ILLUSTRATIVE_SOURCE,
                        "illustrative": True,
                    },
                )
                added += created
    return added


def illustrative_fees(years: set[int]) -> set[tuple[int, str, str]]:
    """(year, payer kind, code) of the illustrative fees on file."""
    return set(
        FeeSchedule.objects.filter(year__in=years, illustrative=True).values_list(
            "year", "payer_kind", "code"
        )
    )


class ScheduleOnFile(NamedTuple):
    year: int
    payer_kind: str
    payer_label: str
    fees: list[FeeSchedule]

    @property
    def illustrative(self) -> bool:
        return any(fee.illustrative for fee in self.fees)


def schedules_on_file() -> list[ScheduleOnFile]:
    """The fees on file grouped per year (latest first) and payer kind."""
    groups: dict[tuple[int, str], list[FeeSchedule]] = {}
    for fee in FeeSchedule.objects.order_by("-year", "payer_kind", "code"):
        groups.setdefault((fee.year, fee.payer_kind), []).append(fee)
    return [
        ScheduleOnFile(year, kind, PayerKind(kind).label, fees)
        for (year, kind), fees in groups.items()
    ]


def fee_table(years: set[int]) -> dict[tuple[int, str, str], Decimal]:
    return {
        (fee.year, fee.payer_kind, fee.code): fee.amount
        for fee in FeeSchedule.objects.filter(year__in=years)
    }
