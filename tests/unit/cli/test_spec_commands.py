"""The declarative CLI: validate, plan, apply, get, export, delete, schema, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenantry.cli import app
from tests.helpers.specs import ASSETS, base_data, tenant_section, text_from

SPEC = ASSETS / "specs" / "two-tenants.yaml"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'tenantry.db'}"

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--store", store, *args])

    return invoke


def test_validate_accepts_a_good_spec(run) -> None:  # type: ignore[no-untyped-def]
    """A valid spec exits 0 and says how many objects it declares."""
    result = run("validate", str(SPEC))
    assert result.exit_code == 0, result.output
    assert "valid: 23 objects" in result.output


def test_validate_refuses_a_bad_spec_with_exit_3(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A bad spec exits 3 and names file, line and field."""
    data = base_data()
    tenant_section(data, "acme")["guests"][0]["vnics"][0]["mac"] = "zz"
    bad = tmp_path / "bad.yaml"
    bad.write_text(text_from(data))
    result = run("validate", str(bad))
    assert result.exit_code == 3
    assert f"{bad}:" in result.output
    assert "tenants[0].guests[0].vnics[0].mac" in result.output


def test_apply_twice_says_no_changes(run) -> None:  # type: ignore[no-untyped-def]
    """The second apply changes nothing and says so."""
    first = run("apply", str(SPEC))
    assert first.exit_code == 0, first.output
    assert "Applied (generation 1)" in first.output
    second = run("apply", str(SPEC))
    assert second.exit_code == 0
    assert "No changes" in second.output


def test_plan_shows_changes_without_writing(run) -> None:  # type: ignore[no-untyped-def]
    """plan lists creates; a following plan still lists them (nothing was written)."""
    first = run("plan", str(SPEC))
    assert "Plan: 23 to create" in first.output
    assert "Plan: 23 to create" in run("plan", str(SPEC)).output


def test_structural_violation_exits_3_before_touching_the_store(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two tenants on one VLAN: the spec itself is invalid (exit 3), nothing is written."""
    data = base_data()
    tenant_section(data, "globex")["networks"][0]["segment"]["vlan"] = 101
    bad = tmp_path / "clash.yaml"
    bad.write_text(text_from(data))
    result = run("apply", str(bad))
    assert result.exit_code == 3
    assert "segment-tenant-unique" in result.output
    assert "acme/app" in result.output
    assert run("get", "tenant").output.strip().splitlines()[1:] == []


def test_refused_apply_exits_8_and_names_the_rule(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Admission refuses an over-reserved host: exit 8, the rule, nothing written."""
    data = base_data()
    tenant_section(data, "acme")["resources"]["vcpu"]["max"] = 99
    tenant_section(data, "acme")["guests"][0]["cpu"] = {"count": 32, "reservation": 20}
    bad = tmp_path / "greedy.yaml"
    bad.write_text(text_from(data))
    result = run("apply", str(bad))
    assert result.exit_code == 8, result.output
    assert "capacity-host" in result.output
    assert run("get", "tenant").output.strip().splitlines()[1:] == []


def test_get_export_and_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """get lists and shows objects; export applies back with no changes."""
    run("apply", str(SPEC))
    listing = run("get", "guest")
    assert "acme/web" in listing.output and "globex/web" in listing.output
    shown = run("get", "guest", "acme/web", "-o", "json")
    assert json.loads(shown.output)["revision"] == 1
    exported = tmp_path / "export.yaml"
    assert run("export", "-o", str(exported)).exit_code == 0
    assert "No changes" in run("apply", str(exported)).output


def test_get_missing_object_exits_4(run) -> None:  # type: ignore[no-untyped-def]
    """Not found is exit 4."""
    run("apply", str(SPEC))
    result = run("get", "guest", "acme/nope")
    assert result.exit_code == 4
    assert "not found" in result.output


def test_delete_in_use_is_refused_then_allowed_when_free(run) -> None:  # type: ignore[no-untyped-def]
    """Deleting a used port group exits 8; deleting a guest works."""
    run("apply", str(SPEC))
    assert run("delete", "port-group", "pg-acme").exit_code == 8
    result = run("delete", "guest", "globex/web")
    assert result.exit_code == 0, result.output
    assert "globex/web" not in run("get", "guest").output


def test_schema_prints_json_schema(run) -> None:  # type: ignore[no-untyped-def]
    """`tenantry schema` is valid JSON with the spec's sections."""
    result = run("schema")
    assert "tenants" in json.loads(result.output)["properties"]


def test_bad_store_url_exits_9(tmp_path: Path) -> None:
    """An unusable store is exit 9 (unavailable) with a hint."""
    result = CliRunner().invoke(app, ["--store", "mysql://x/y", "get", "tenant"])
    assert result.exit_code == 9
    assert "hint" in result.output
