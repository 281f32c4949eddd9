"""`tenantry trace` and `tenantry replay` over the example estate."""

from __future__ import annotations

import json
from pathlib import Path

import dpkt
import pytest
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.compiler import compile_estate
from tenantry.dataplane.probe import build_probe
from tests.helpers.estates import EXAMPLES, example_estate

SPEC = str(EXAMPLES / "two-tenants.yaml")
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if "--json" in args and result.exit_code == 0:
        return result.exit_code, result.output
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_trace_shows_an_allowed_routed_flow_and_the_rules_that_allowed_it() -> None:
    """web -> db on 5432 is routed and allowed by web's egress and db's ingress rules."""
    code, out = _run(
        "trace", "--spec", SPEC, "--from", "acme/a1/eth0", "--to", "acme/a3/eth0", "--dport", "5432"
    )
    assert code == 0, out
    assert "routed to acme/db" in out
    assert "policy acme/web rule 1" in out
    assert "verdict: forward" in out


def test_trace_shows_a_blocked_cross_tenant_flow() -> None:
    """acme cannot reach bravo: its router has no route there."""
    code, out = _run("trace", "--spec", SPEC, "--from", "acme/a1/eth0", "--to", "bravo/b1/eth0")
    assert code == 0, out
    assert "verdict: drop (no-route)" in out


def test_trace_json_names_the_port_security_reason() -> None:
    """A spoofed source is dropped by port security, in JSON for scripts."""
    code, out = _run(
        "trace",
        "--spec",
        SPEC,
        "--from",
        "acme/a1/eth0",
        "--to",
        "acme/a2/eth0",
        "--dport",
        "443",
        "--src-ip",
        "10.1.0.12",
        "--json",
    )
    assert code == 0, out
    verdict = json.loads(out)
    assert (verdict["action"], verdict["stage"], verdict["reason"]) == (
        "drop",
        "port-security",
        "ipv4-source-not-locked",
    )


def test_trace_takes_a_frame_as_hex() -> None:
    """--hex classifies the exact bytes given."""
    probe = build_probe(
        compile_estate(example_estate()), source="bravo/b1/eth0", to="bravo/b2/eth0", dport=80
    )
    code, out = _run(
        "trace", "--spec", SPEC, "--from", "bravo/b1/eth0", "--hex", probe.frame.hex(), "--json"
    )
    assert code == 0, out
    assert json.loads(out)["egress"] == ["bravo/b2/eth0"]


def test_trace_refuses_bad_hex_with_an_input_error() -> None:
    """Bad input is a clear error (exit 3), not a crash."""
    code, out = _run("trace", "--spec", SPEC, "--from", "acme/a1/eth0", "--hex", "zz")
    assert code == 3
    assert "not hexadecimal" in out


def test_trace_of_an_unknown_port_is_not_found() -> None:
    """A port that does not exist is reported as such (exit 4)."""
    code, out = _run("trace", "--spec", SPEC, "--from", "acme/nobody/eth0", "--to", "acme/a2/eth0")
    assert code == 4
    assert "not found" in out


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    programs = compile_estate(example_estate())
    path = tmp_path / "a1.pcap"
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle)
        for dport in (443, 443, 8080):
            probe = build_probe(programs, source="acme/a1/eth0", to="acme/a2/eth0", dport=dport)
            writer.writepkt(probe.frame, ts=1.0)
        spoof = build_probe(
            programs,
            source="acme/a1/eth0",
            to="acme/a2/eth0",
            dport=443,
            src_mac="02:00:00:02:00:01",
        )
        writer.writepkt(spoof.frame, ts=2.0)
    return path


def test_replay_counts_verdicts_per_flow_and_reason(capture: Path) -> None:
    """Each flow and reason is counted once per frame."""
    code, out = _run("replay", str(capture), "--port", "acme/a1/eth0", "--spec", SPEC, "--json")
    assert code == 0, out
    result = json.loads(out)
    counts = {(r["flow"].split(" > ")[1], r["reason"]): r["count"] for r in result["flows"]}
    assert result["frames"] == 4
    assert counts[("10.1.0.12:443 proto 6", "allowed")] == 1
    assert counts[("10.1.0.12:443 proto 6", "established")] == 1
    assert counts[("10.1.0.12:8080 proto 6", "default-deny")] == 1
    assert counts[("10.1.0.12:443 proto 6", "forged-source-mac")] == 1


def test_replay_of_a_broken_capture_is_a_capture_error(tmp_path: Path) -> None:
    """A file that is not a capture gets a clear error (exit 3)."""
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(b"this is not a capture at all")
    code, out = _run("replay", str(broken), "--port", "acme/a1/eth0", "--spec", SPEC)
    assert code == 3
    assert "not a pcap or pcapng file" in out


def test_replay_of_a_truncated_capture_says_which_packet(capture: Path) -> None:
    """A capture cut in the middle of a packet names that packet."""
    capture.write_bytes(capture.read_bytes()[:-10])
    code, out = _run("replay", str(capture), "--port", "acme/a1/eth0", "--spec", SPEC)
    assert code == 3
    assert "packet 4 is truncated" in out
