"""Checked reads of untrusted JSON (bundles, checkpoints): each failure names its place."""

from __future__ import annotations

from typing import Any

from tenantry.errors import InputError

__all__ = ["field", "hex_bytes", "hex_list", "integer", "obj", "seq", "text"]


def obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected an object")
    return value


def seq(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{where}: expected a list")
    return value


def integer(value: object, where: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{where}: expected an integer >= {minimum}")
    return value


def text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected text")
    return value


def hex_bytes(value: object, where: str, length: int | None = 32) -> bytes:
    raw_text = text(value, where)
    try:
        raw = bytes.fromhex(raw_text)
    except ValueError as exc:
        raise InputError(f"{where}: not hex") from exc
    if length is not None and len(raw) != length:
        raise InputError(f"{where}: expected {length} bytes, got {len(raw)}")
    return raw


def hex_list(value: object, where: str) -> tuple[bytes, ...]:
    return tuple(hex_bytes(item, f"{where}[{i}]") for i, item in enumerate(seq(value, where)))


def field(data: dict[str, Any], name: str, where: str) -> Any:
    try:
        return data[name]
    except KeyError as exc:
        raise InputError(f"{where}: missing field {name!r}") from exc
