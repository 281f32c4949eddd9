"""Generated documentation that tests keep in sync (`scripts/gen-docs` rewrites it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from tenantry.errors import all_error_classes

__all__ = ["DOCS", "errors_markdown", "spec_markdown", "spec_reference_markdown"]

DOCS = Path(__file__).parent.parent.parent / "docs"


def errors_markdown() -> str:
    """docs/errors.md: every error class with its code, exit code and HTTP status."""
    lines = [
        "# Errors",
        "",
        "Every error tenantry raises on purpose is a subclass of `TenantryError` "
        "(`src/tenantry/errors.py`). The CLI exits with the error's exit code and prints its "
        "message and a hint; the API answers with an RFC 9457 problem document whose `type` is "
        "the code and whose status is the HTTP status below.",
        "",
        "Exit 0 is success, 1 a negative verdict (a leak found, a log that does not verify), "
        "2 a usage error, 70 an internal error (a bug: please report it).",
        "",
        "| error | code | exit | HTTP | what to do |",
        "|---|---|---|---|---|",
    ]
    lines.extend(
        f"| `{cls.__name__}` | `{cls.code}` | {cls.exit_code} | {cls.http_status} "
        f"| {cls.hint or '-'} |"
        for cls in sorted(all_error_classes(), key=lambda c: c.code)
    )
    return "\n".join(lines) + "\n"


MARK_BEGIN = "<!-- generated: field reference (scripts/gen-docs) -->"
MARK_END = "<!-- end generated -->"


_NAME_HELP = "a DNS label: lower-case letters, digits and '-', 1-63 characters"


def _schema_type(prop: dict[str, Any], defs: dict[str, Any] | None = None) -> str:
    """A short human reading of a JSON Schema property."""
    defs = defs or {}
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        target = defs.get(name, {})
        return _schema_type(target, defs) if "enum" in target else name
    if "enum" in prop:
        return " or ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    for key in ("anyOf", "oneOf"):
        if key in prop:
            parts = [_schema_type(p, defs) for p in prop[key] if p.get("type") != "null"]
            optional = any(p.get("type") == "null" for p in prop[key])
            text = " or ".join(dict.fromkeys(parts))
            return f"{text} (optional)" if optional else text
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_schema_type(prop.get('items', {}), defs)}"
    if prop.get("format"):
        return f"{kind} ({prop['format']})"
    if prop.get("pattern") and kind == "string":
        return "name" if prop["pattern"].startswith("^[a-z0-9]") else "string"
    return str(kind)


def spec_reference_markdown() -> str:
    """The per-section field tables of docs/spec.md, generated from the model classes."""
    from tenantry.model import KIND_INFO
    from tenantry.spec import TenantSection

    lines = [MARK_BEGIN, ""]
    seen: set[type] = set()
    queue: list[tuple[str, type]] = [(info.section, info.model) for info in KIND_INFO.values()]
    queue.append(("tenants (section)", TenantSection))
    while queue:
        title, cls = queue.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        lines += [
            f"### `{title}`: {cls.__name__}",
            "",
            (cls.__doc__ or "").strip().splitlines()[0],
            "",
        ]
        lines += ["| field | type | default | meaning |", "|---|---|---|---|"]
        schema = cls.model_json_schema()  # type: ignore[attr-defined]
        props, defs = schema["properties"], schema.get("$defs", {})
        for name, field in cls.model_fields.items():
            default = (
                "required"
                if field.is_required()
                else json.dumps(to_jsonable_python(field.get_default(call_default_factory=True)))
            )
            if len(default) > 40:
                default = "(see below)"
            description = props[name].get("description", "")
            if description == _NAME_HELP:
                description = ""
            cells = [f"`{name}`", _schema_type(props[name], defs), default, description]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
            queue.extend((f"{title}.{name}", sub) for sub in _nested_models(field.annotation))
        lines.append("")
    lines.append(MARK_END)
    return "\n".join(lines) + "\n"


def _nested_models(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    found: list[type] = []
    stack = [annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            found.append(item)
            continue
        stack.extend(getattr(item, "__args__", ()))
        origin = getattr(item, "__origin__", None)
        if origin is not None and isinstance(origin, type) and issubclass(origin, BaseModel):
            found.append(origin)
    return found


def spec_markdown(current: str) -> str:
    """docs/spec.md with its generated part replaced by the current field reference."""
    head, _, rest = current.partition(MARK_BEGIN)
    _, _, tail = rest.partition(MARK_END + "\n")
    return head + spec_reference_markdown() + tail
