"""Announcement texts: what the hall sees and hears when a ticket is called to a window."""

from __future__ import annotations

import pytest

from display.announce import (
    Announcement,
    AnnouncementError,
    announcement,
    read_digits,
    read_number,
    read_ticket,
    ticket_number,
    window_number,
)


def test_a023_to_window_5_reads_like_the_hall_says_it() -> None:
    assert announcement("A023", 5) == Announcement(
        number="A023",
        window=5,
        text="请 A023 号到 5 号窗口办理",
        speech="请 A 零 二 三 号,到 五 号窗口办理",
    )


def test_ticket_digits_are_read_one_by_one_never_as_a_quantity() -> None:
    assert read_ticket("A023") == "A 零 二 三"
    assert read_ticket("F1000") == "F 一 零 零 零"  # not 一千
    assert read_ticket("B100") == "B 一 零 零"  # not 一百
    assert read_ticket("C010") == "C 零 一 零"  # not 十
    assert read_ticket("N99999") == "N 九 九 九 九 九"


def test_four_digit_numbers_are_announced_digit_by_digit() -> None:
    item = announcement("F1000", 10)
    assert item.text == "请 F1000 号到 10 号窗口办理"
    assert item.speech == "请 F 一 零 零 零 号,到 十 号窗口办理"


@pytest.mark.parametrize(
    ("window", "spoken"),
    [
        (1, "一"),
        (2, "二"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (15, "十五"),
        (20, "二十"),
        (22, "二十二"),
        (35, "三十五"),
        (100, "一百"),
        (101, "一百零一"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (210, "二百一十"),
        (999, "九百九十九"),
    ],
)
def test_window_numbers_are_read_as_numbers(window: int, spoken: str) -> None:
    assert read_number(window) == spoken
    assert announcement("A001", window).speech == f"请 A 零 零 一 号,到 {spoken} 号窗口办理"


@pytest.mark.parametrize(
    ("value", "spoken"),
    [(0, "零"), (1000, "一千"), (1005, "一千零五"), (1010, "一千零一十"), (9999, "九千九百九十九")],
)
def test_numbers_read_with_one_zero_for_a_gap(value: int, spoken: str) -> None:
    assert read_number(value) == spoken


def test_window_labels_as_text_are_accepted() -> None:
    # Live events carry the window as its label, "15"; the display text shows it as it is.
    assert announcement("K007", "15") == announcement("K007", 15)
    assert announcement("K007", "15").text == "请 K007 号到 15 号窗口办理"


@pytest.mark.parametrize("prefix", list("ABCDEFGHJKLMN"))
def test_every_demo_prefix_is_said_as_a_capital_letter(prefix: str) -> None:
    item = announcement(f"{prefix}042", 3)
    assert item.speech == f"请 {prefix} 零 四 二 号,到 三 号窗口办理"
    assert item.text == f"请 {prefix}042 号到 3 号窗口办理"


def test_digits_use_the_ten_chinese_numerals() -> None:
    assert read_digits("0123456789") == "零 一 二 三 四 五 六 七 八 九"


@pytest.mark.parametrize(
    "number",
    [
        "",
        "A",
        "A23",  # numbers have at least three digits
        "a023",
        "AA023",
        "A0231234",
        "A02３",  # a full-width digit
        "A023 ",
        "请到1号窗口",
        "A023号",
        "<b>A023</b>",
        None,
        23,
    ],
)
def test_anything_but_a_ticket_number_is_refused(number: object) -> None:
    with pytest.raises(AnnouncementError):
        ticket_number(number)
    with pytest.raises(AnnouncementError):
        announcement(number, 5)


@pytest.mark.parametrize(
    "window", [0, -1, 1000, "0", "05", "5号", "五", "", " 5", "5.0", 5.0, True, None, "1e2"]
)
def test_anything_but_a_window_number_is_refused(window: object) -> None:
    with pytest.raises(AnnouncementError):
        window_number(window)
    with pytest.raises(AnnouncementError):
        announcement("A023", window)


def test_read_number_refuses_what_it_cannot_say() -> None:
    with pytest.raises(AnnouncementError):
        read_number(10000)
    with pytest.raises(AnnouncementError):
        read_digits("12a")


def test_spoken_text_has_no_arabic_digits_left() -> None:
    for number, window in [("A023", 5), ("F1000", 15), ("N999", 22), ("B100", 110)]:
        speech = announcement(number, window).speech
        assert not any(ch.isdigit() and ch.isascii() for ch in speech), speech
