"""Validators of ID numbers and phones (properties, with hypothesis) and the masking rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.identity import (
    check_id_number,
    check_phone,
    id_check_char,
    is_valid_id_number,
    is_valid_phone,
    keyed_hash,
    mask_id_number,
    mask_name,
    mask_phone,
)

seventeen = st.text(alphabet="0123456789", min_size=17, max_size=17)


def test_a_published_example_id_number_is_valid() -> None:
    # The GB 11643-1999 appendix example: 11010519491231002X.
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert not is_valid_id_number("110105194912310021")


@given(seventeen)
def test_an_id_with_its_computed_check_character_is_valid(first17: str) -> None:
    assert is_valid_id_number(first17 + id_check_char(first17))


@given(seventeen, st.integers(0, 16), st.integers(1, 9))
def test_changing_any_one_digit_makes_an_id_invalid(first17: str, at: int, delta: int) -> None:
    valid = first17 + id_check_char(first17)
    digit = (int(valid[at]) + delta) % 10
    mutated = valid[:at] + str(digit) + valid[at + 1 :]
    assert not is_valid_id_number(mutated)


@given(seventeen)
def test_a_wrong_check_character_is_invalid(first17: str) -> None:
    right = id_check_char(first17)
    for wrong in "0123456789X":
        if wrong != right:
            assert not is_valid_id_number(first17 + wrong)


@given(st.text(max_size=30))
def test_the_id_validator_never_crashes_and_never_echoes_the_input(text: str) -> None:
    try:
        check_id_number(text)
    except InvalidInput as exc:
        assert len(text.strip()) < 6 or text.strip() not in exc.message


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_mainland_mobile_numbers_are_valid(number: str) -> None:
    assert is_valid_phone(number)
    assert check_phone(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number
    assert mask_phone(number) == f"{number[:3]}****{number[-4:]}"


@given(st.from_regex(r"(1[0-2]\d{9}|[02-9]\d{10}|1[3-9]\d{8}|1[3-9]\d{10})", fullmatch=True))
def test_other_numbers_are_not_mobile_numbers(number: str) -> None:
    assert not is_valid_phone(number)
    with pytest.raises(InvalidInput) as caught:
        check_phone(number)
    assert number not in caught.value.message


def test_masks_keep_only_what_is_needed_to_recognise_a_booking() -> None:
    assert mask_id_number("41170219900101001X") == "4117**********001X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("Li") == "L*"


def test_keyed_hashes_depend_on_the_pepper_and_the_purpose() -> None:
    a = keyed_hash("13812345678", b"p" * 32, "phone")
    assert a == keyed_hash("13812345678", b"p" * 32, "phone")
    assert a != keyed_hash("13812345678", b"q" * 32, "phone")
    assert a != keyed_hash("13812345678", b"p" * 32, "id")
    assert "13812345678" not in a
