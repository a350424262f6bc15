"""CPF check digits: the producer only sends CPFs that a Brazilian system would accept.

A CPF is 9 base digits plus two check digits (mod 11, weights 10..2 then 11..2),
written `ddd.ddd.ddd-dd`. Numbers made of one repeated digit pass the arithmetic but
are rejected by the Receita Federal, so they are invalid here too.
"""

from __future__ import annotations

import random
import re

_FORMATTED = re.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}")


def check_digit(digits: str) -> str:
    """The next check digit of `digits` (9 digits give the 1st, 10 the 2nd)."""
    weight = len(digits) + 1
    total = sum(int(d) * (weight - i) for i, d in enumerate(digits))
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


def complete(base: str) -> str:
    """The 11 digits of the CPF whose 9 base digits are `base`."""
    if len(base) != 9 or not base.isdigit():
        raise ValueError(f"a CPF base has 9 digits, got {base!r}")
    first = check_digit(base)
    return base + first + check_digit(base + first)


def format_cpf(digits: str) -> str:
    """`52998224725` -> `529.982.247-25`."""
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def is_valid(cpf: str, *, formatted: bool = True) -> bool:
    """True if `cpf` has valid check digits (and the `ddd.ddd.ddd-dd` mask when `formatted`)."""
    if formatted and not _FORMATTED.fullmatch(cpf):
        return False
    digits = cpf.replace(".", "").replace("-", "")
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return False
    if digits == digits[0] * 11:
        return False
    return complete(digits[:9]) == digits


def random_cpf(rng: random.Random) -> str:
    """A valid, formatted CPF drawn from `rng` (reproducible for a seeded `rng`)."""
    while True:
        base = f"{rng.randrange(10**9):09d}"
        if base != base[0] * 9:
            return format_cpf(complete(base))
