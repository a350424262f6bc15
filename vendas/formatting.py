"""Brazilian number formatting for what users read (logs, summaries, benchmark output)."""

from __future__ import annotations


def fmt_int(n: float) -> str:
    """Thousands separated by dots: 15000 -> '15.000'."""
    return f"{n:,.0f}".replace(",", ".")


def fmt_float(x: float, decimals: int = 1) -> str:
    """Decimal comma: 1234.5 -> '1.234,5'."""
    return f"{x:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_rate(rate: float) -> str:
    """A rate: whole numbers from 10 up, two decimals below."""
    return fmt_int(rate) if rate >= 10 or rate == int(rate) else fmt_float(rate, 2)
