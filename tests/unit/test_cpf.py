"""CPF check digits: known valid and invalid numbers, and the generated ones."""

from __future__ import annotations

import random

import pytest

from vendas.producer import cpf


@pytest.mark.parametrize("number", ["529.982.247-25", "111.444.777-35", "123.456.789-09",
                                    "000.000.001-91", "987.654.321-00"])
def test_known_valid_cpfs(number):
    assert cpf.is_valid(number)


@pytest.mark.parametrize("number", [
    "529.982.247-24",  # last digit off by one
    "529.982.247-15",  # first check digit wrong
    "123.456.789-00",
    "111.111.111-11",  # repeated digits: arithmetic passes, Receita rejects
    "000.000.000-00",
    "52998224725",  # valid digits but not formatted
    "529.982.247-2",
    "529-982-247.25",
    "abc.def.ghi-jk",
    "５２９.９８２.２４７-２５",  # full-width digits are not ASCII digits
    "",
])
def test_known_invalid_cpfs(number):
    assert not cpf.is_valid(number)


def test_unformatted_digits_accepted_when_asked():
    assert cpf.is_valid("52998224725", formatted=False)
    assert not cpf.is_valid("52998224724", formatted=False)


def test_check_digits_and_formatting():
    assert cpf.check_digit("529982247") == "2"
    assert cpf.check_digit("5299822472") == "5"
    assert cpf.complete("529982247") == "52998224725"
    assert cpf.format_cpf("52998224725") == "529.982.247-25"
    with pytest.raises(ValueError):
        cpf.complete("12345")


def test_random_cpfs_are_valid_and_reproducible():
    numbers = [cpf.random_cpf(random.Random(7)) for _ in range(3)]
    assert len(set(numbers)) == 1  # same seed, same number
    rng = random.Random(1)
    generated = [cpf.random_cpf(rng) for _ in range(2000)]
    assert all(cpf.is_valid(n) for n in generated)
    assert len(set(generated)) > 1990


def test_any_single_digit_change_is_detected():
    valid = "52998224725"
    for position in range(11):
        for digit in "0123456789":
            if digit != valid[position]:
                changed = valid[:position] + digit + valid[position + 1:]
                assert not cpf.is_valid(changed, formatted=False), changed
