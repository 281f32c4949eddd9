"""The errors module is the one place codes, exit codes and HTTP statuses live."""

from __future__ import annotations

from tenantry import errors
from tests.helpers.docs import DOCS, errors_markdown


def test_every_error_has_a_unique_code() -> None:
    """Codes are stable identifiers: never two classes with one code."""
    codes = [cls.code for cls in errors.all_error_classes()]
    assert len(codes) == len(set(codes))


def test_every_error_has_an_exit_code_and_http_status() -> None:
    """Each class maps to a CLI exit code and an HTTP status in the valid ranges."""
    for cls in errors.all_error_classes():
        assert 1 <= cls.exit_code < 64, cls
        assert 200 <= cls.http_status < 600, cls


def test_every_error_is_drawn_in_the_module_docstring() -> None:
    """The docstring tree shows the whole taxonomy (httpx style)."""
    doc = errors.__doc__ or ""
    for cls in errors.all_error_classes():
        assert cls.__name__ in doc, cls


def test_every_error_is_exported() -> None:
    """Each class is public."""
    for cls in errors.all_error_classes():
        assert cls.__name__ in errors.__all__


def test_docs_errors_md_is_current() -> None:
    """docs/errors.md is generated from the classes (run scripts/gen-docs after a change)."""
    assert (DOCS / "errors.md").read_text() == errors_markdown()


def test_spec_error_says_where() -> None:
    """A spec issue renders as file:line:column: path: message."""
    issue = errors.SpecIssue("tenants[0].name", "bad", "a.yaml", 3, 5)
    assert str(issue) == "a.yaml:3:5: tenants[0].name: bad"
    assert errors.SpecError([issue]).details()[0]["pointer"] == "/tenants/0/name"


def test_docs_spec_md_field_reference_is_current() -> None:
    """docs/spec.md's field tables are generated from the model (run scripts/gen-docs)."""
    from tests.helpers.docs import spec_markdown

    current = (DOCS / "spec.md").read_text()
    assert spec_markdown(current) == current
