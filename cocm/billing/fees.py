"""Fee schedules from CSV: year, payer_kind, code, amount[, source]."""

import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cocm.billing.models import FeeSchedule
from cocm.registry.models import PayerKind
from cocm.registry.services import InvalidRequest

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
            defaults={"amount": fee.amount, "source": fee.source},
        )
    return len(fees)


def fee_table(years: set[int]) -> dict[tuple[int, str, str], Decimal]:
    return {
        (fee.year, fee.payer_kind, fee.code): fee.amount
        for fee in FeeSchedule.objects.filter(year__in=years)
    }
