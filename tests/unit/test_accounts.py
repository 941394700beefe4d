"""Staff accounts: roles, scrypt password hashes, username and password rules."""

from __future__ import annotations

import base64
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_engine.domain.access import Role, parse_role
from queue_engine.domain.accounts import (
    COMMON_PASSWORDS,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    check_password,
    check_username,
    hash_password,
    verify_password,
)
from queue_engine.domain.errors import InvalidInput

PASSWORD = "correct horse 42"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- hashing ---------------------------------------------------------------------------------


def test_hash_format(stored: str) -> None:
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P))
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert PASSWORD not in stored


def test_round_trip(stored: str) -> None:
    assert verify_password(PASSWORD, stored) is True


@pytest.mark.parametrize("wrong", ["", "correct horse 43", "Correct horse 42", PASSWORD + " "])
def test_wrong_password_is_false(stored: str, wrong: str) -> None:
    assert verify_password(wrong, stored) is False


def test_same_password_hashes_differ_by_salt(stored: str) -> None:
    again = hash_password(PASSWORD)
    assert again != stored
    assert again.split("$")[4] != stored.split("$")[4]
    assert verify_password(PASSWORD, again)


def test_explicit_salt_is_deterministic() -> None:
    salt = bytes(range(16))
    first = hash_password("s3cret-pw", salt=salt)
    assert first == hash_password("s3cret-pw", salt=salt)
    assert first.split("$")[4] == b64(salt)


def test_unicode_password_round_trip() -> None:
    stored = hash_password("办事大厅密码2026")
    assert verify_password("办事大厅密码2026", stored)
    assert not verify_password("办事大厅密码2025", stored)


def test_tampered_digest_is_false(stored: str) -> None:
    parts = stored.split("$")
    digest = bytearray(base64.b64decode(parts[5]))
    digest[0] ^= 1
    parts[5] = b64(bytes(digest))
    assert verify_password(PASSWORD, "$".join(parts)) is False


def _with(stored: str, index: int, value: str) -> str:
    parts = stored.split("$")
    parts[index] = value
    return "$".join(parts)


SALT, DIGEST = b64(b"\x00" * 16), b64(b"\x01" * 32)


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "garbage",
        "$$$$$",
        f"bcrypt$16384$8$1${SALT}${DIGEST}",
        f"scrypt$16384$8$1${SALT}",  # five parts
        f"scrypt$16384$8$1${SALT}${DIGEST}$extra",  # seven parts
        f"scrypt$abc$8$1${SALT}${DIGEST}",  # n not a number
        f"scrypt$16384$8.0$1${SALT}${DIGEST}",
        f"scrypt$3$8$1${SALT}${DIGEST}",  # n not a power of two
        f"scrypt$0$8$1${SALT}${DIGEST}",
        f"scrypt$16384$0$1${SALT}${DIGEST}",
        f"scrypt$16384$8$0${SALT}${DIGEST}",
        f"scrypt$1048576$8$1${SALT}${DIGEST}",  # beyond scrypt's memory limit
        f"scrypt$16384$8$1$!!not-base64!!${DIGEST}",
        f"scrypt$16384$8$1${SALT}$@@@",
        f"scrypt$16384$8$1${SALT}$",  # empty digest
        f"scrypt$16384$8$1${SALT}$密码",  # non-ASCII base64
    ],
)
def test_malformed_stored_hash_is_false(malformed: str) -> None:
    assert verify_password(PASSWORD, malformed) is False


@pytest.mark.parametrize(
    "malformed",
    [
        f"scrypt$-16384$8$1${SALT}${DIGEST}",
        f"scrypt$16384$-8$1${SALT}${DIGEST}",
        f"scrypt$16384$8$-1${SALT}${DIGEST}",
        f"scrypt${2**64}$8$1${SALT}${DIGEST}",
    ],
    ids=["negative-n", "negative-r", "negative-p", "n-overflows-64-bits"],
)
def test_out_of_range_scrypt_parameters_are_false(malformed: str) -> None:
    """A corrupted stored hash must make the login fail, not crash it."""
    assert verify_password(PASSWORD, malformed) is False


def test_password_that_cannot_be_encoded_is_false(stored: str) -> None:
    assert verify_password("lone \ud800 surrogate 1", stored) is False


@settings(max_examples=20, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_stored_text_never_raises(text: str) -> None:
    # random text is never a well-formed hash, so no scrypt run is paid for here
    assert verify_password(PASSWORD, text) is False


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
def test_hash_round_trip_property(password: str) -> None:
    stored = hash_password(password)
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)


# --- password rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "",
        "a1",
        "abc123!",  # seven characters
        "12345678",
        "0000000000000000",
        "abcdefgh",
        "Password",
        "密码密码密码密码",  # letters only, even if not Latin
    ],
)
def test_check_password_rejects(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password(password)


def test_check_password_messages() -> None:
    with pytest.raises(InvalidInput, match=f"at least {MIN_PASSWORD_LENGTH}"):
        check_password("ab1")
    with pytest.raises(InvalidInput, match="letters and digits"):
        check_password("12345678")
    with pytest.raises(InvalidInput, match="letters and digits"):
        check_password("abcdefgh")


@pytest.mark.parametrize("password", ["abcd1234", "Pass word!", "hall-2026", "密码密码密码密码1"])
def test_check_password_accepts(password: str) -> None:
    assert check_password(password) is None


@pytest.mark.parametrize("password", ["        ", "!!!!!!!!", "12345678!", "Pass word"])
def test_check_password_needs_a_letter_and_a_digit_or_symbol(password: str) -> None:
    with pytest.raises(InvalidInput, match="letters and digits"):
        check_password(password)


def _password_ok(password: str) -> bool:
    return (
        len(password) >= MIN_PASSWORD_LENGTH
        and any(ch.isalpha() for ch in password)
        and any(not ch.isalpha() and not ch.isspace() for ch in password)
        and len(password) <= MAX_PASSWORD_LENGTH
        and password.lower() not in COMMON_PASSWORDS
    )


_password_text = st.text(max_size=20) | st.text(
    st.sampled_from(string.ascii_letters + string.digits + "!_ "), max_size=20
)


@given(_password_text)
def test_check_password_property(password: str) -> None:
    try:
        result = check_password(password)
    except InvalidInput as exc:
        assert exc.code == "invalid"
        assert not _password_ok(password)
    else:
        assert result is None
        assert _password_ok(password)


# --- username rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bob", "bob"),
        ("  alice  ", "alice"),
        ("j.doe-1_x", "j.doe-1_x"),
        ("007", "007"),
        ("a" * 64, "a" * 64),
        ("\tclerk01\n", "clerk01"),
    ],
)
def test_check_username_accepts(raw: str, expected: str) -> None:
    assert check_username(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ab",
        "  ab  ",
        "a" * 65,
        "john doe",
        "bob@hall",
        "a/b/c",
        "x;drop",
        "tab\there",
        "é\u0301a",
    ],
)
def test_check_username_rejects(raw: str) -> None:
    with pytest.raises(InvalidInput, match="3–64"):
        check_username(raw)


_username_text = st.text(max_size=70) | st.text(
    st.sampled_from(string.ascii_letters + string.digits + "._- @\t"), max_size=70
)


@given(_username_text)
def test_check_username_property(raw: str) -> None:
    stripped = raw.strip()
    rules_hold = 3 <= len(stripped) <= 64 and all(ch.isalnum() or ch in "._-" for ch in stripped)
    try:
        name = check_username(raw)
    except InvalidInput:
        assert not rules_hold
    else:
        assert rules_hold
        assert name == stripped
        assert 3 <= len(name) <= 64
        assert all(ch.isalnum() or ch in "._-" for ch in name)
        assert check_username(name) == name  # idempotent


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_parse_role_accepts_every_role(role: Role) -> None:
    assert parse_role(role.value) is role


def test_parse_role_values() -> None:
    assert [r.value for r in Role] == ["admin", "supervisor", "clerk", "kiosk"]


@pytest.mark.parametrize("value", ["", "Admin", "ADMIN", " admin", "root", "clerks", "管理员"])
def test_parse_role_rejects(value: str) -> None:
    with pytest.raises(InvalidInput, match="unknown role") as info:
        parse_role(value)
    assert "admin, supervisor, clerk, kiosk" in info.value.message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@given(st.text(max_size=12))
def test_parse_role_property(value: str) -> None:
    try:
        role = parse_role(value)
    except InvalidInput:
        assert value not in {r.value for r in Role}
    else:
        assert role.value == value
