"""Staff accounts: password rules and hashing (scrypt from the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from queue_engine.domain.errors import InvalidInput

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256  # a bound on what one login or account request makes us hash
# Passwords that pass the length and character rules yet are the first ones guessed.
COMMON_PASSWORDS = frozenset(
    {
        "password1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "admin123",
        "admin@123", "admin1234", "abc12345", "qwerty123", "qwer1234",
        "1qaz2wsx", "a1234567", "a12345678", "aa123456", "iloveyou1", "welcome1",
        "zaq12wsx", "123456abc", "123456aa", "test1234", "root1234", "woaini1314",
        "changeme1", "letmein1",
    }
)  # fmt: skip


def check_username(username: str) -> str:
    name = username.strip()
    if not (3 <= len(name) <= 64) or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise InvalidInput("usernames are 3–64 letters, digits, dots, dashes or underscores")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"passwords have at most {MAX_PASSWORD_LENGTH} characters")
    if password.lower() in COMMON_PASSWORDS:
        raise InvalidInput("this password is one of the first ones an attacker tries")
    has_letter = any(ch.isalpha() for ch in password)
    has_other = any(not ch.isalpha() and not ch.isspace() for ch in password)
    if not (has_letter and has_other):
        raise InvalidInput("passwords need both letters and digits or symbols")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash``, all parameters kept so they can be raised later."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError, OverflowError):  # a corrupted hash is a failed login
        return False
    return hmac.compare_digest(actual, expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
