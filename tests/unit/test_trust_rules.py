"""Trust rules of issue 15: which no-shows ban an ID number, who rates at a window, rating keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from queue_engine.domain.access import Actor, Role
from queue_engine.domain.appointments import MissedBooking, counted_no_shows
from queue_engine.domain.errors import Forbidden
from queue_engine.domain.evaluations import (
    KEY_CHANNELS,
    RatingChannel,
    key_channel,
    may_rate_visit,
    rating_key,
)
from queue_engine.domain.identity import IdProof, ProofMethod, subkey

T0 = datetime(2026, 11, 26, 2, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_a_verified_no_show_counts_whatever_the_phone() -> None:
    missed = [MissedBooking(day(1), "other", verified=True)]
    assert counted_no_shows(missed, {}, "mine") == [day(1)]


def test_an_unverified_no_show_with_a_stranger_phone_never_counts() -> None:
    missed = [MissedBooking(day(1), "stranger", False), MissedBooking(day(2), "stranger", False)]
    assert counted_no_shows(missed, {"mine": day(0)}, "mine") == []
    assert counted_no_shows(missed, {}, "mine") == []


def test_the_phone_on_file_counts_from_when_it_was_verified() -> None:
    missed = [MissedBooking(day(1), "mine", False), MissedBooking(day(3), "mine", False)]
    assert counted_no_shows(missed, {"mine": day(2)}, "new") == [day(3)]
    assert counted_no_shows(missed, {"mine": day(0)}, "new") == [day(1), day(3)]


def test_the_same_booker_again_with_that_id_and_phone_counts_their_own_no_shows() -> None:
    missed = [MissedBooking(day(1), "stranger", False), MissedBooking(day(2), "stranger", False)]
    assert counted_no_shows(missed, {}, "stranger") == [day(1), day(2)]


def test_an_id_proof_at_the_kiosk_checks_the_id_number() -> None:
    proof = IdProof.at_kiosk(" 11010519491231002x ")
    assert proof == IdProof("11010519491231002X", ProofMethod.KIOSK)
    with pytest.raises(Exception, match="not a valid"):
        IdProof.at_kiosk("110105194912310021")


def test_rating_keys_are_per_ticket_and_channel_and_need_the_secret() -> None:
    secret = subkey(b"pepper-0123456789abcdef", "rating-keys")
    keys = {rating_key(secret, "t1", c) for c in KEY_CHANNELS} | {
        rating_key(secret, "t2", RatingChannel.SLIP_QR)
    }
    assert len(keys) == len(KEY_CHANNELS) + 1 and all(len(k) == 20 for k in keys)
    slip = rating_key(secret, "t1", RatingChannel.SLIP_QR)
    assert key_channel(secret, "t1", slip) is RatingChannel.SLIP_QR
    other = subkey(b"another-pepper-0123456789", "rating-keys")
    for wrong in (
        None,
        "",
        slip.lower(),
        rating_key(other, "t1", RatingChannel.SLIP_QR),
        "x" * 999,
    ):
        with pytest.raises(Forbidden):
            key_channel(secret, "t1", wrong)
    with pytest.raises(Forbidden):
        key_channel(secret, "t2", slip)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (Actor("eval10", Role.KIOSK, "ZMD"), RatingChannel.EVALUATOR),
        (Actor("kiosk", Role.KIOSK, "ZMD"), None),
        (Actor("clerk10", Role.CLERK, "ZMD"), RatingChannel.EVALUATOR_CLERK),
        (Actor("clerk11", Role.CLERK, "ZMD"), None),
        (Actor("admin", Role.ADMIN, "ZMD"), None),
        (Actor("supervisor", Role.SUPERVISOR, "ZMD"), None),
    ],
)
def test_who_rates_at_a_windows_evaluator(actor: Actor, expected: RatingChannel | None) -> None:
    assert may_rate_visit(actor, "eval10", "clerk10", "clerk10") is expected


def test_the_windows_clerk_never_rates_a_colleagues_visit() -> None:
    clerk = Actor("clerk11", Role.CLERK, "ZMD")
    assert may_rate_visit(clerk, None, "clerk11", "clerk10") is None
    assert may_rate_visit(Actor("eval10", Role.KIOSK), "eval10", "clerk11", "clerk10") == (
        RatingChannel.EVALUATOR
    )
