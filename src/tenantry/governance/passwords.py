"""Password hashing with argon2id (argon2-cffi's RFC 9106 defaults) and password rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tenantry.errors import InputError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PasswordHashing",
    "UnsafeFastPasswordHashing",
    "check_password_rules",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Bounded so that hashing cost stays bounded (argon2 takes any length)."""


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id cost parameters for new hashes (a stored hash carries its own parameters).

    The default is argon2-cffi's: t=3, m=64 MiB, p=4, RFC 9106's second recommendation.
    """

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4

    def hasher(self) -> PasswordHasher:
        """An argon2id hasher with these costs."""
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            type=Type.ID,
        )


def UnsafeFastPasswordHashing() -> PasswordHashing:  # noqa: N802 - named like a class on purpose
    """Cheap argon2id costs that make offline guessing easy: for test suites only."""
    return PasswordHashing(time_cost=1, memory_cost=8, parallelism=1)


_HASHER = PasswordHashing().hasher()


@cache
def _dummy_hash() -> str:
    # A hash of a fixed string: verifying against it costs what a real verification costs, so
    # a login for an unknown user takes as long as one for a known user with a wrong password.
    return _HASHER.hash("tenantry-no-such-user-timing-equaliser")


def check_password_rules(password: str) -> None:
    """Raise InputError if a new password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str, costs: PasswordHashing | None = None) -> str:
    """The argon2id hash of a password (PHC string with salt and parameters)."""
    return (costs.hasher() if costs is not None else _HASHER).hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; spends the same time when ``stored`` is None."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
