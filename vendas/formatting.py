"""Brazilian number formatting for what users read (logs, summaries, benchmark output)."""

from __future__ import annotations

from decimal import Decimal, localcontext


def fmt_int(n: float) -> str:
    """Thousands separated by dots: 15000 -> '15.000'."""
    return f"{n:,.0f}".replace(",", ".")


def fmt_float(x: float, decimals: int = 1) -> str:
    """Decimal comma: 1234.5 -> '1.234,5'."""
    return f"{x:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_rate(rate: float) -> str:
    """A rate: whole numbers from 10 up, two decimals below."""
    return fmt_int(rate) if rate >= 10 or rate == int(rate) else fmt_float(rate, 2)


def fmt_brl(value: Decimal | float) -> str:
    """Reais, exact for a Decimal: Decimal('1234.5') -> 'R$ 1.234,50', negatives '-R$ 1,00'."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    with localcontext() as context:  # numeric(38,2) has more digits than the default 28
        context.prec = max(context.prec, len(value.as_tuple().digits) + 3)
        text = f"{abs(value):,.2f}"
    sign = "-" if value < 0 and text.strip("0.,") else ""
    return f"{sign}R$ " + text.replace(",", "\0").replace(".", ",").replace("\0", ".")
