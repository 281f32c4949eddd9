"""The attack catalogue from inside the guests: every attack blocked, every control passing."""

from __future__ import annotations

from tenantry.dataplane.attackrun import attack_lab
from tenantry.dataplane.lab.runner import Outcome
from tests.integration.dataplane.lab.conftest import RunningLab, free_prefix

CRASH_PROBE = "tcp-syn-retry"


def test_every_attack_is_blocked_with_its_control_passing(lab: RunningLab) -> None:
    """Rows 1-7, 11-14, 16, 17: nothing leaks, no control fails, no daemon dies."""
    names = sorted({a for a in _catalogue_names(lab) if a != CRASH_PROBE})
    report = attack_lab(lab.env, lab.programs, names)
    failed = [f"{f.outcome} {f.name} {f.attacker}: {f.leaks or f.control_missing}"
              for f in report.findings if f.outcome is not Outcome.BLOCKED]  # fmt: skip
    assert failed == []
    assert report.crashed == []
    assert all(report.controls_before.values())
    assert all(report.controls_after.values())
    assert len(report.findings) > 40


def test_a_daemon_crash_is_a_finding_never_a_block(lab: RunningLab) -> None:
    """Row 27: the SYN-retry probe either leaves the daemons alone or is reported as a crash;
    either way the data plane works again afterwards (monitor restart, flows reinstalled)."""
    report = attack_lab(lab.env, lab.programs, [CRASH_PROBE])
    (finding,) = report.findings
    if report.crashed:
        assert finding.outcome is Outcome.CRASHED
        assert not report.passed
    else:
        assert finding.outcome is Outcome.BLOCKED
    assert all(report.controls_after.values())


def _catalogue_names(lab: RunningLab) -> set[str]:
    from tenantry.dataplane.attackrun import lab_topology
    from tenantry.dataplane.lab.catalogue import catalogue

    topology = lab_topology(lab.env, lab.programs)
    return {a.name for a in catalogue(topology, lambda _: {}, lambda _: [])}


def test_the_example_estate_withstands_every_attack() -> None:
    """examples/specs/demo.yaml as lab guests: every attack blocked, every control passing."""
    import tempfile
    from pathlib import Path

    from tenantry.dataplane.environment import LabEnvironment
    from tests.helpers.estates import example_estate

    with tempfile.TemporaryDirectory(prefix="tdemo", dir="/tmp") as directory:
        env = LabEnvironment(Path(directory), prefix=free_prefix("td"))
        try:
            programs = env.up(example_estate("demo"))
            topology_names = {a for a in _catalogue_names_of(env, programs) if a != CRASH_PROBE}
            report = attack_lab(env, programs, sorted(topology_names))
        finally:
            env.down()
    failed = [f"{f.outcome} {f.name} {f.attacker}: {f.leaks or f.control_missing}"
              for f in report.findings if f.outcome is not Outcome.BLOCKED]  # fmt: skip
    assert failed == []
    assert report.crashed == []


def _catalogue_names_of(env: object, programs: object) -> set[str]:
    from tenantry.dataplane.attackrun import lab_topology
    from tenantry.dataplane.lab.catalogue import catalogue

    topology = lab_topology(env, programs)  # type: ignore[arg-type]
    return {a.name for a in catalogue(topology, lambda _: {}, lambda _: [])}
