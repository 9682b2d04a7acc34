"""A small evaluator of the spreadsheet formulas the finance workbook uses, so a test can
check that the workbook computes what the model computes (no spreadsheet program needed).

Supports numbers, "text", cell references (A1, $B$2, Sheet!$C$3), ranges, + - * /, unary
minus, comparisons, and MIN, MAX, IF, SUM, SUMPRODUCT, SUMIF, N. Anything else raises.
"""

import re

from openpyxl.utils import column_index_from_string

TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
    r'|(?P<string>"[^"]*")'
    r"|(?P<ref>(?:[A-Za-z]+!)?\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)"
    r"|(?P<name>[A-Z]+)(?=\()"
    r"|(?P<op><=|>=|<>|[-+*/(),<>=]))"
)
CELL = re.compile(r"\$?([A-Z]+)\$?(\d+)")


class Workbook:
    def __init__(self, book):  # type: ignore[no-untyped-def]
        self.book = book
        self.cache: dict[tuple[str, str], object] = {}

    def value(self, sheet: str, coordinate: str) -> object:
        key = (sheet, coordinate)
        if key not in self.cache:
            raw = self.book[sheet][coordinate].value
            if isinstance(raw, str) and raw.startswith("="):
                self.cache[key] = _Parser(self, sheet, raw[1:]).parse()
            else:
                self.cache[key] = raw
        return self.cache[key]


class _Parser:
    def __init__(self, book: Workbook, sheet: str, text: str) -> None:
        self.book, self.sheet = book, sheet
        self.tokens = [
            (m.lastgroup, m.group(m.lastgroup)) for m in TOKEN.finditer(text) if m.lastgroup
        ]
        consumed = "".join(m.group(0) for m in TOKEN.finditer(text)).replace(" ", "")
        if consumed != text.replace(" ", ""):
            raise ValueError(f"cannot read formula {text!r}")
        self.at = 0

    def parse(self) -> object:
        value = self.comparison()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at]}")
        return value

    def peek(self) -> tuple[str | None, str | None]:
        return self.tokens[self.at] if self.at < len(self.tokens) else (None, None)

    def take(self) -> tuple[str | None, str | None]:
        token = self.peek()
        self.at += 1
        return token

    def comparison(self) -> object:
        left = self.additive()
        kind, op = self.peek()
        if kind == "op" and op in ("<", ">", "<=", ">=", "=", "<>"):
            self.take()
            right = self.additive()
            return {
                "<": left < right,
                ">": left > right,
                "<=": left <= right,
                ">=": left >= right,
                "=": left == right,
                "<>": left != right,
            }[op]
        return left

    def additive(self) -> object:
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            _, op = self.take()
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> object:
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            _, op = self.take()
            right = self.unary()
            value = value * right if op == "*" else value / right
        return value

    def unary(self) -> object:
        if self.peek() == ("op", "-"):
            self.take()
            return -self.unary()
        return self.atom()

    def atom(self) -> object:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1]
        if kind == "ref":
            cells = self.cells(text)
            return cells if ":" in text else _number_or_text(cells[0])
        if kind == "name":
            return self.call(text)
        if (kind, text) == ("op", "("):
            value = self.comparison()
            self.expect(")")
            return value
        raise ValueError(f"unexpected {text!r}")

    def expect(self, op: str) -> None:
        if self.take() != ("op", op):
            raise ValueError(f"expected {op}")

    def call(self, name: str) -> object:
        self.expect("(")
        args: list[object] = []
        if self.peek() != ("op", ")"):
            args.append(self.comparison())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.comparison())
        self.expect(")")
        flat = [v for a in args for v in (a if isinstance(a, list) else [a])]
        numbers = [_n(v) for v in flat if v is not None and v != ""]
        if name == "MIN":
            return min(numbers)
        if name == "MAX":
            return max(numbers)
        if name == "SUM":
            return sum(numbers)
        if name == "N":
            return _n(flat[0])
        if name == "IF":
            return args[1] if args[0] else args[2]
        if name == "SUMPRODUCT":
            return sum(_n(a) * _n(b) for a, b in zip(args[0], args[1], strict=True))
        if name == "SUMIF":
            return sum(_n(v) for key, v in zip(args[0], args[2], strict=True) if key == args[1])
        raise ValueError(f"unknown function {name}")

    def cells(self, text: str) -> list[object]:
        sheet, _, where = text.rpartition("!")
        sheet = sheet or self.sheet
        first, _, last = where.partition(":")
        (c0, r0), (c1, r1) = _cell(first), _cell(last or first)
        return [
            self.book.value(sheet, f"{_letters(c)}{r}")
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
        ]


def _cell(text: str) -> tuple[int, int]:
    match = CELL.fullmatch(text)
    assert match, text
    return column_index_from_string(match.group(1)), int(match.group(2))


def _letters(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _n(value: object) -> float:
    if value is None or value == "" or isinstance(value, str):
        return 0.0
    return float(value)  # type: ignore[arg-type]


def _number_or_text(value: object) -> object:
    return 0.0 if value is None else value
