"""Passwords (argon2id), one-time codes (replay-safe), bearer secrets, throttles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tenantry.errors import InputError
from tenantry.governance import (
    FailureCount,
    ThrottleRule,
    check_password_rules,
    digest_secret,
    hash_password,
    matches_digest,
    new_secret,
    new_totp_secret,
    verify_password,
    verify_totp,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def test_password_hash_is_argon2id_and_verifies() -> None:
    """The stored form is an argon2id PHC string; the right password matches."""
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "a long enough password")


def test_wrong_password_does_not_verify() -> None:
    """A wrong password, an empty one, or no stored hash never match."""
    stored = hash_password("a long enough password")
    assert not verify_password(stored, "a long enough passworD")
    assert not verify_password(stored, "")
    assert not verify_password(None, "a long enough password")
    assert not verify_password("not a hash", "a long enough password")


@pytest.mark.parametrize("password", ["short", "x" * 2000])
def test_password_rules_refuse_short_and_huge_passwords(password: str) -> None:
    """Too short to resist guessing, or long enough to be a hashing DoS."""
    with pytest.raises(InputError):
        check_password_rules(password)


def test_totp_code_of_now_is_accepted_once() -> None:
    """A current code is accepted; the same code again is a replay and refused."""
    secret = new_totp_secret()
    code = pyotp.TOTP(secret).at(NOW)
    step = verify_totp(secret, code, NOW, None)
    assert step is not None
    assert verify_totp(secret, code, NOW, step) is None


def test_totp_accepts_the_neighbouring_step_for_clock_drift() -> None:
    """The previous 30 s step still counts; two steps back does not."""
    secret = new_totp_secret()
    totp = pyotp.TOTP(secret)
    assert verify_totp(secret, totp.at(NOW - timedelta(seconds=30)), NOW, None) is not None
    assert verify_totp(secret, totp.at(NOW - timedelta(seconds=90)), NOW, None) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", " 12 34 "])
def test_totp_refuses_malformed_codes(code: str) -> None:
    """Only six digits can be a code."""
    assert verify_totp(new_totp_secret(), code, NOW, None) is None


def test_totp_refuses_a_wrong_code() -> None:
    """A six-digit code of no step in the window is refused."""
    secret = new_totp_secret()
    totp = pyotp.TOTP(secret)
    window = {totp.at(NOW + timedelta(seconds=30 * i)) for i in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in window)
    assert verify_totp(secret, wrong, NOW, None) is None


def test_bearer_secret_is_stored_as_a_digest() -> None:
    """The digest matches its secret only, and is not the secret."""
    secret = new_secret()
    digest = digest_secret(secret)
    assert secret not in digest and len(digest) == 64
    assert matches_digest(secret, digest)
    assert not matches_digest(new_secret(), digest)


def test_n_minus_one_failures_do_not_lock() -> None:
    """FIA_AFL: (n-1) failures leave the account open."""
    rule = ThrottleRule(5, timedelta(minutes=5))
    count = FailureCount("user:provider/alice")
    for _ in range(4):
        count = count.after_failure(rule, NOW)
    assert not count.is_locked(NOW)


def test_n_failures_lock_until_the_lockout_ends() -> None:
    """n failures lock for T: still locked at T-1 s, open again at T."""
    rule = ThrottleRule(5, timedelta(minutes=5))
    count = FailureCount("user:provider/alice")
    for _ in range(5):
        count = count.after_failure(rule, NOW)
    assert count.is_locked(NOW + timedelta(minutes=5) - timedelta(seconds=1))
    assert not count.is_locked(NOW + timedelta(minutes=5))
    # After the lock ran out, the next failure starts a fresh count.
    assert count.after_failure(rule, NOW + timedelta(minutes=6)).count == 1


@pytest.mark.parametrize(
    ("url", "template", "group_filter"),
    [
        ("http://dir", "uid={username}", "(member={user_dn})"),
        ("ldap://dir", "uid=fixed", "(member={user_dn})"),
        ("ldap://dir", "uid={username}", "(member=someone)"),
    ],
)
def test_directory_settings_are_checked(url: str, template: str, group_filter: str) -> None:
    """A directory needs an ldap(s) URL, a user template and a group filter with placeholders."""
    from tenantry.governance import DirectoryConfig

    with pytest.raises(InputError):
        DirectoryConfig(url, template, "dc=x", group_filter=group_filter)
    assert DirectoryConfig("ldaps://dir", "{username}@example.org", "dc=x").to_json()["url"]
