"""Free text staff type keeps no full phone or ID number; pauses map to a fixed category."""

from __future__ import annotations

import pytest

from queue_engine.domain.model import PauseCategory
from queue_engine.domain.redaction import mask_personal_data


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("午休 13800138000", "午休 138****8000"),
        ("回电 138 0013 8000", "回电 138****8000"),
        ("回电 138-0013-8000", "回电 138****8000"),
        ("回电 +86 13800138000", "回电 138****8000"),
        ("回电１３８００１３８０００", "回电138****8000"),
        ("身份证410102199001011234", "身份证4101**********1234"),
        ("身份证 41010219900101123x", "身份证 4101**********123X"),
        ("老证 410102900101123", "老证 4101*******1123"),
        ("座机 0396-2812345", "座机 0396-*****45"),
        ("单号 20261126001", "单号 *********01"),
        ("会议 2026-11-26 13:00 到 A023", "会议 2026-11-26 13:00 到 A023"),
        ("系统故障", "系统故障"),
    ],
)
def test_personal_numbers_are_masked_and_dates_times_and_tickets_kept(
    typed: str, kept: str
) -> None:
    assert mask_personal_data(typed) == kept
    assert mask_personal_data(kept) == kept  # masking twice changes nothing


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("午休", PauseCategory.LUNCH),
        ("午休 138****8000", PauseCategory.LUNCH),
        ("Lunch break", PauseCategory.LUNCH),
        ("会议", PauseCategory.MEETING),
        ("临时离开", PauseCategory.AWAY),
        ("系统故障,等待维修", PauseCategory.SYSTEM),
        ("区里开会", PauseCategory.OTHER),
        ("13800138000", PauseCategory.OTHER),
    ],
)
def test_a_reason_maps_to_the_category_it_begins_with(reason: str, category: PauseCategory) -> None:
    assert PauseCategory.of_reason(reason) is category
    assert category.label_zh and category.label_en
