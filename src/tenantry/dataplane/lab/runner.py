"""Running the catalogue: controls first, every attack, controls again, then daemon liveness.

An attack is *blocked* when none of its frames arrived anywhere it must not (every other
guest, the fabric, the hypervisors) and its checks of guest state found nothing, *leaked*
otherwise (with where and what), and *inconclusive* when its control did not arrive: a dead
network blocks everything, which proves nothing. A daemon whose pid changed during the run
(crashed and restarted by its monitor, or gone) is a finding of its own: the attack during
which it happened is reported as *crashed*, and the run does not pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from tenantry.dataplane.lab.probes import Attack, Probe
from tenantry.dataplane.lab.wire import Observatory, Sender, Sighting

__all__ = ["Finding", "Outcome", "RunReport", "run_attacks"]


class Outcome(StrEnum):
    BLOCKED = "blocked"
    LEAKED = "leaked"
    INCONCLUSIVE = "inconclusive"
    CRASHED = "crashed"
    """A data-plane daemon died while the attack ran: a finding, whatever else happened."""


@dataclass
class Finding:
    """One attack's result, with its evidence."""

    name: str
    threat: str
    attacker: str
    description: str
    outcome: Outcome
    sent: int
    leaks: list[str] = field(default_factory=list)
    control: str = ""
    control_missing: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    """A whole run: findings, controls before and after, daemons before and after."""

    findings: list[Finding]
    controls_before: dict[str, bool]
    controls_after: dict[str, bool]
    daemons_before: dict[str, int | None]
    daemons_after: dict[str, int | None]
    seconds: float

    @property
    def crashed(self) -> list[str]:
        """Daemons that died or were restarted during the run."""
        return _died(self.daemons_before, self.daemons_after)

    @property
    def passed(self) -> bool:
        return not self.crashed and all(f.outcome is Outcome.BLOCKED for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "crashed_daemons": self.crashed,
            "seconds": round(self.seconds, 2),
            "controls_before": self.controls_before,
            "controls_after": self.controls_after,
            "daemons_before": self.daemons_before,
            "daemons_after": self.daemons_after,
            "findings": [{**asdict(f), "outcome": str(f.outcome)} for f in self.findings],
        }


def _matches(sighting: Sighting, signatures: Sequence[bytes]) -> bool:
    return any(signature in sighting.raw for signature in signatures)


def _send(sender: Sender, observatory: Observatory, probe: Probe) -> tuple[int, list[Sighting]]:
    mark = observatory.mark()
    sent = sender.send(probe.sender.netns, probe.sender.ifname, probe.frames, probe.gap)
    seen = [s for s in observatory.since(mark) if _matches(s, probe.signatures)]
    return sent, seen


def _control_missing(sender: Sender, observatory: Observatory, probe: Probe) -> list[str]:
    """Where the control should have arrived and did not (retried once: ARP/ND warm-up)."""
    missing: list[str] = []
    for _ in range(2):
        _, seen = _send(sender, observatory, probe.renewed())
        arrived = {s.label for s in seen}
        missing = [label for label in probe.expect_at if label not in arrived]
        if not missing:
            return []
    return missing


def run_attacks(
    attacks: Sequence[Attack],
    observatory: Observatory,
    liveness: Callable[[], Mapping[str, int | None]],
    *,
    progress: Callable[[Finding], None] | None = None,
    recover: Callable[[], None] | None = None,
) -> RunReport:
    """Run every attack with its control; controls again at the end; check the daemons
    after every attack (``recover`` is called after a crash, before the next attack)."""
    started = time.monotonic()
    sender = Sender()
    try:
        daemons_before = dict(liveness())
        controls = {_control_key(a): a.control for a in attacks}
        before = {k: not _control_missing(sender, observatory, p) for k, p in controls.items()}
        findings = []
        for attack in attacks:
            pids = dict(liveness())
            missing = _control_missing(sender, observatory, attack.control)
            sent, seen = _send(sender, observatory, attack.attack)
            forbidden = attack.attack.forbid_at
            leaks = [
                f"{s.label}: {s.packet().summary()}"
                for s in seen
                if (
                    s.label in forbidden
                    if forbidden is not None
                    else s.label != attack.attack.sender.name
                )
            ]
            for check in attack.checks:
                leaks.extend(check())
            outcome = Outcome.LEAKED if leaks else Outcome.BLOCKED
            if outcome is Outcome.BLOCKED and missing:
                outcome = Outcome.INCONCLUSIVE
            died = _died(pids, liveness())
            if died:
                outcome = Outcome.CRASHED
                leaks.insert(0, f"daemons died or restarted: {', '.join(died)}")
                if recover is not None:
                    recover()
            finding = Finding(
                attack.name,
                attack.threat,
                attack.attack.sender.name,
                f"{attack.description} [{attack.attack.what}]",
                outcome,
                sent,
                leaks[:10],
                attack.control.what,
                missing,
            )
            findings.append(finding)
            if progress is not None:
                progress(finding)
        after = {k: not _control_missing(sender, observatory, p) for k, p in controls.items()}
        daemons_after = dict(liveness())
    finally:
        sender.close()
    return RunReport(
        findings, before, after, daemons_before, daemons_after, time.monotonic() - started
    )


def _leak(probe: Probe, sighting: Sighting) -> bool:
    if sighting.label in probe.forbid_untagged_at:
        return sighting.raw[12:14] != b"\x81\x00"
    if probe.forbid_at is not None:
        return sighting.label in probe.forbid_at
    return sighting.label != probe.sender.name


def _died(before: Mapping[str, int | None], after: Mapping[str, int | None]) -> list[str]:
    return sorted(name for name, pid in before.items() if pid is None or after.get(name) != pid)


def _control_key(attack: Attack) -> str:
    return f"{attack.control.sender.name}: {attack.control.what}"
