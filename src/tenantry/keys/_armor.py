"""PEM-style armor (RFC 7468) with optional ``Name: value`` lines before the block."""

from __future__ import annotations

import base64
import binascii
import textwrap

from tenantry.errors import KeyMaterialError

__all__ = ["armor", "dearmor"]

MAX_ARMORED_BYTES = 64 * 1024
"""Keys and wrapped keys are a few kilobytes; anything larger is not one of ours."""


def armor(label: str, data: bytes, headers: dict[str, str] | None = None) -> str:
    """``Name: value`` lines, then the base64 block between BEGIN and END lines."""
    lines = [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"-----BEGIN {label}-----")
    lines.extend(textwrap.wrap(base64.b64encode(data).decode(), 64))
    lines.append(f"-----END {label}-----")
    return "\n".join(lines) + "\n"


def dearmor(text: bytes | str, label: str, *, source: str) -> tuple[dict[str, str], bytes]:
    """The header lines and the decoded block labelled ``label``; KeyMaterialError otherwise."""
    if len(text) > MAX_ARMORED_BYTES:
        raise KeyMaterialError(f"{source}: {len(text)} bytes is too large for a {label}")
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise KeyMaterialError(
                f"{source}: not text (byte {exc.start} is not ASCII); expected a {label} block"
            ) from exc
    lines = [line.strip() for line in text.splitlines()]
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in lines:
        found = next((line for line in lines if line.startswith("-----BEGIN ")), None)
        what = f"found {found!r}" if found else "no BEGIN line"
        raise KeyMaterialError(f"{source}: expected a {begin!r} block, {what}")
    start = lines.index(begin)
    if end not in lines[start:]:
        raise KeyMaterialError(f"{source}: the {label} block has no END line (truncated?)")
    stop = lines.index(end, start)
    headers: dict[str, str] = {}
    for number, line in enumerate(lines[:start], 1):
        name, sep, value = line.partition(":")
        if line and sep:
            headers[name.strip()] = value.strip()
        elif line:
            raise KeyMaterialError(f"{source}:{number}: expected 'Name: value' before the block")
    body = "".join(lines[start + 1 : stop])
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyMaterialError(f"{source}: the {label} block is not valid base64") from exc
    return headers, data
