"""`tenantry verify`: matrix, counterexamples, JSON, exit status, and --diff."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tenantry.cli import app
from tests.helpers.estates import EXAMPLES

DEMO = str(EXAMPLES / "demo.yaml")
LEAKY = str(EXAMPLES / "two-tenants.yaml")


def test_verify_of_an_isolated_estate_exits_zero_with_a_clean_matrix() -> None:
    """The demo verifies: exit 0 and every cell of the matrix is ok."""
    result = CliRunner().invoke(app, ["verify", "--spec", DEMO])
    assert result.exit_code == 0, result.output
    assert "isolated: no path between any two of 4 tenants" in result.output


def test_verify_of_a_leaky_estate_exits_one_with_a_replayed_counterexample() -> None:
    """two-tenants.yaml leaks through bridged guests: exit 1, ARP counterexample, replayed."""
    result = CliRunner().invoke(app, ["verify", "--spec", LEAKY])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "acme -> bravo [l2]" in text
    assert "ARP who-has" in text
    assert "replayed on the reference backend: delivered" in text


def test_verify_json_lists_pairs_leaks_frames_and_the_matrix() -> None:
    """--json carries the pairs, each counterexample frame as hex, and replay status."""
    result = CliRunner().invoke(app, ["verify", "--spec", LEAKY, "--json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["isolated"] is False
    assert {(p["from"], p["to"]) for p in body["pairs"]} == {("acme", "bravo"), ("bravo", "acme")}
    hop = body["leaks"][0]["counterexample"]["hops"][0]
    assert bytes.fromhex(hop["frame"])[12:14] == b"\x08\x06"
    assert all(leak["replayed"] for leak in body["leaks"])
    assert body["matrix"]["tenants"] == ["acme", "bravo"]


def test_verify_diff_shows_connectivity_a_change_adds() -> None:
    """--diff A B lists the tenant pairs B can reach that A could not."""
    result = CliRunner().invoke(app, ["verify", "--diff", DEMO, LEAKY, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {(p["from"], p["to"]) for p in body["added"]} == {("acme", "bravo"), ("bravo", "acme")}
    assert body["removed"] == []


def test_verify_diff_of_a_spec_with_itself_shows_nothing() -> None:
    """No change, no difference."""
    result = CliRunner().invoke(app, ["verify", "--diff", DEMO, DEMO])
    assert result.exit_code == 0
    assert "no change" in result.output


def test_verify_backend_ovn_without_a_running_ovn_is_a_clear_error(tmp_path: Path) -> None:
    """No OVN databases in the directory: exit 9 (unavailable) saying what is missing."""
    args = ["verify", "--backend", "ovn", "--ovn-dir", str(tmp_path), "--spec", DEMO]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 9, result.output
    assert "OVN" in result.output
    assert "Traceback" not in result.output


def test_verify_backend_reference_is_the_default() -> None:
    """--backend reference verifies the compiled estate, as without the option."""
    result = CliRunner().invoke(app, ["verify", "--backend", "reference", "--spec", LEAKY])
    assert result.exit_code == 1
    assert "replayed on the reference backend: delivered" in " ".join(result.output.split())
