"""Generated documentation that tests keep in sync (`scripts/gen-docs` rewrites it)."""

from __future__ import annotations

from pathlib import Path

from tenantry.errors import all_error_classes

__all__ = ["DOCS", "errors_markdown"]

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
