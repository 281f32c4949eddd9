"""Key files kept outside the store: private (0600), created whole on first use.

The audit signing key and the secrets key live in such files. Whoever can read one can sign
a rewritten history or open every stored secret, so a file that others can read is refused
rather than used.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from tenantry.errors import KeyMaterialError

__all__ = ["read_private_file"]


def read_private_file(
    path: Path, *, label: str, generate: Callable[[], bytes], create: bool = True, hint: str = ""
) -> bytes:
    """The contents of the private key file ``path``; when it is missing and ``create`` is set,
    ``generate()`` is written there first (``label`` names the key in errors)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise KeyMaterialError(f"no {label} at {path}") from None
        return _create(path, label=label, generate=generate, hint=hint)
    except OSError as exc:
        raise KeyMaterialError(f"cannot read the {label} {path}: {exc.strerror}") from exc
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyMaterialError(
            f"the {label} {path} is accessible to other users (mode {mode & 0o777:o})",
            hint=f"Restrict it: chmod 600 {path}",
        )
    return data


def _create(path: Path, *, label: str, generate: Callable[[], bytes], hint: str) -> bytes:
    data = generate()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        # O_EXCL and 0600 from the first byte; the link makes the key appear whole or not at
        # all, and a process that linked first wins: its key is read back, so all agree.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                return read_private_file(path, label=label, generate=generate, create=False)
        finally:
            temporary.unlink(missing_ok=True)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot create the {label} {path}: {exc.strerror}", hint=hint
        ) from exc
    return data
