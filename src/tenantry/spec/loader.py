"""Safe YAML reading that keeps line and column marks, and maps errors back to them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tenantry.errors import SpecError, SpecIssue
from tenantry.spec.schema import EstateSpec

__all__ = ["ParsedFile", "locate", "parse_file", "parse_text"]

MAX_SPEC_BYTES = 64 * 1024 * 1024
_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class ParsedFile:
    """A validated spec file and its YAML tree (for locating later errors)."""

    name: str
    spec: EstateSpec
    tree: Any


def parse_file(path: Path) -> ParsedFile:
    """Read and validate one spec file."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError([SpecIssue("", f"file is {size} bytes; the limit is 64 MiB", name)])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError([SpecIssue("", "no such file", name)]) from exc
    except UnicodeDecodeError as exc:
        raise SpecError([SpecIssue("", f"not UTF-8 text (byte {exc.start})", name)]) from exc
    except OSError as exc:
        raise SpecError([SpecIssue("", f"cannot read: {exc.strerror}", name)]) from exc
    return parse_text(text, name)


def parse_text(text: str, name: str = "<spec>") -> ParsedFile:
    """Parse and validate spec text; every problem comes back as a located SpecIssue."""
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except DuplicateKeyError as exc:
        raise SpecError([_marked_issue(exc, name, "a key appears twice in one mapping")]) from exc
    except MarkedYAMLError as exc:
        raise SpecError([_marked_issue(exc, name, None)]) from exc
    except YAMLError as exc:
        raise SpecError([SpecIssue("", f"not valid YAML: {exc}", name)]) from exc
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, dict):
        raise SpecError(
            [SpecIssue("", "the top level must be a mapping (version: 1, ...)", name, 1, 1)]
        )
    data = _plain(tree)
    try:
        spec = EstateSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_validation_issues(exc, tree, name)) from exc
    return ParsedFile(name, spec, tree)


def _marked_issue(exc: MarkedYAMLError, name: str, override: str | None) -> SpecIssue:
    mark = exc.problem_mark or exc.context_mark
    problem = override or exc.problem or "not valid YAML"
    if override and exc.problem:
        problem = f"{override}: {exc.problem}"
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return SpecIssue("", f"YAML syntax: {problem}", name, line, column)


def _plain(node: Any) -> Any:
    """ruamel's round-trip types to plain Python (pydantic then sees what JSON would give)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return str(node)


def _validation_issues(exc: ValidationError, tree: Any, name: str) -> list[SpecIssue]:
    issues = []
    for error in exc.errors(include_url=False):
        path, node_loc = _walk(tree, error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see `tenantry schema`)"
        elif error["type"] == "missing":
            message = "required field is missing"
        message = message.removeprefix("Value error, ")
        line, column = node_loc
        issues.append(SpecIssue(path, message, name, line, column))
    return issues


def _walk(tree: Any, loc: Sequence[int | str]) -> tuple[str, tuple[int | None, int | None]]:
    """Follow a pydantic error location through the YAML tree: (field path, line/column)."""
    node = tree
    parts: list[str] = []
    position = _position(tree, None)
    for step in loc:
        if isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            position = _item_position(node, step) or position
            parts.append(f"[{step}]")
            node = node[step]
        elif isinstance(node, CommentedMap) and isinstance(step, str) and step in node:
            position = _key_position(node, step) or position
            parts.append(f".{step}" if parts else step)
            node = node[step]
        elif isinstance(step, str) and step in ("vlan", "overlay") and isinstance(node, dict):
            continue  # pydantic names the union member it tried; not a key in the file
        else:
            parts.append(f".{step}" if isinstance(step, str) and parts else f"{step}")
            node = None
    return "".join(parts), position


def locate(tree: Any, path: str) -> tuple[int | None, int | None]:
    """The line and column of ``a.b[2].c`` in a YAML tree (the closest existing ancestor)."""
    loc: list[int | str] = []
    for key, index in _PATH_TOKEN.findall(path):
        loc.append(int(index) if index else key)
    return _walk(tree, loc)[1]


def _position(node: Any, _: object) -> tuple[int | None, int | None]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return (None, None)
    return (lc.line + 1, lc.col + 1)


def _key_position(node: CommentedMap, key: str) -> tuple[int, int] | None:
    try:
        line, col = node.lc.key(key)
    except (KeyError, TypeError):
        return None
    return (line + 1, col + 1)


def _item_position(node: CommentedSeq, index: int) -> tuple[int, int] | None:
    try:
        line, col = node.lc.item(index)
    except (KeyError, TypeError, IndexError):
        return None
    return (line + 1, col + 1)
