"""One logged-in session per module and token, shared inside the process.

PKCS#11 login state belongs to the application, not to a session: a second login fails and
logging any session out logs out all of them, so vaults on the same token share one session
(and one lock, since a session runs one operation at a time). A vault with a different PIN
is refused rather than let in on the shared login.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from pkcs11 import exceptions as p11

from tenantry.errors import HsmUnavailableError

__all__ = ["SharedLogin", "attach", "detach"]


@dataclass
class SharedLogin:
    """The shared session of one token, who uses it, and the lock that serialises it."""

    session: Any
    pin_digest: bytes
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: int = 0


_logins: dict[tuple[str, str], SharedLogin] = {}
_logins_lock = threading.Lock()


def attach(module: str, token: str, pin: str) -> SharedLogin:
    """Join (or open) the token's shared login; HsmUnavailableError if that is impossible."""
    digest = hashlib.sha256(pin.encode()).digest()
    with _logins_lock:
        shared = _logins.get((module, token))
        if shared is None:
            shared = SharedLogin(_login(module, token, pin), digest)
            _logins[(module, token)] = shared
        elif not hmac.compare_digest(shared.pin_digest, digest):
            raise HsmUnavailableError(f"the token {token!r} refused the user PIN")
        shared.users += 1
        return shared


def detach(module: str, token: str, shared: SharedLogin) -> None:
    """Leave the shared login; the last user logs out and closes the session."""
    with _logins_lock:
        shared.users -= 1
        if shared.users == 0:
            _logins.pop((module, token), None)
            with shared.lock, suppress(p11.PKCS11Error):
                shared.session.close()


def _login(module: str, token_label: str, pin: str) -> Any:
    try:
        library = pkcs11.lib(module)
    except (RuntimeError, OSError) as exc:
        raise HsmUnavailableError(f"cannot load the PKCS#11 module {module}: {exc}") from exc
    try:
        token = library.get_token(token_label=token_label)
    except p11.NoSuchToken as exc:
        raise HsmUnavailableError(f"no token labelled {token_label!r} in {module}") from exc
    except p11.PKCS11Error as exc:
        raise HsmUnavailableError(f"cannot list tokens of {module}: {type(exc).__name__}") from exc
    try:
        return token.open(rw=True, user_pin=pin)
    except p11.UserAlreadyLoggedIn:
        # Another part of this process logged in already (outside this registry).
        return token.open(rw=True)
    except (p11.PinIncorrect, p11.PinLenRange, p11.PinInvalid) as exc:
        raise HsmUnavailableError(f"the token {token_label!r} refused the user PIN") from exc
    except p11.PKCS11Error as exc:
        raise HsmUnavailableError(
            f"cannot open a session on {token_label!r}: {type(exc).__name__}"
        ) from exc
