"""The long-running reconciler (THREATS row 10): hand edits repaired within the SLA, unaided."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane.ovn import OvnBackend, OvnDeployment, Reconciler, Repair
from tenantry.dataplane.ovn.daemons import run_tool
from tests.helpers.estates import example_estate

SLA_SECONDS = 5.0


@pytest.fixture
def running(ovn_central: OvnDeployment) -> Iterator[tuple[Reconciler, list[Repair]]]:
    """A reconciler for the demo estate running in a thread on the session's Northbound."""
    backend = OvnBackend(ovn_central.nb_remote)
    programs: Programs = compile_estate(example_estate("demo"))
    backend.apply(programs)
    seen: list[Repair] = []
    reconciler = Reconciler(backend, programs, interval=60.0, on_repair=seen.append)
    thread = threading.Thread(target=reconciler.run, daemon=True)
    thread.start()
    yield reconciler, seen
    reconciler.stop()
    thread.join(10)
    backend.client.reconcile([])
    backend.close()


def nbctl(central: OvnDeployment, *args: str) -> str:
    return run_tool(["ovn-nbctl", f"--db={central.nb_remote}", *args])


def until(predicate: object, limit: float) -> float | None:
    """Seconds until ``predicate()`` holds, or None after ``limit``."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.01)
    return None


@pytest.mark.parametrize(
    ("tamper", "restored"),
    [
        (
            ("lsp-set-port-security", "finance/ledger-web-1/eth0"),
            ("get", "Logical_Switch_Port", "finance/ledger-web-1/eth0", "port_security"),
        ),
        (
            ("set", "NB_Global", ".", "options:default_acl_drop=false"),
            ("get", "NB_Global", ".", "options:default_acl_drop"),
        ),
    ],
)
def test_reconciler_repairs_a_hand_edit_within_the_sla(
    running: tuple[Reconciler, list[Repair]],
    ovn_central: OvnDeployment,
    tamper: tuple[str, ...],
    restored: tuple[str, ...],
) -> None:
    """A weakening hand edit is undone by the daemon, unaided, in under 5 s (measured)."""
    _, seen = running
    before = nbctl(ovn_central, *restored)
    nbctl(ovn_central, *tamper)
    took = until(lambda: nbctl(ovn_central, *restored) == before, SLA_SECONDS)
    assert took is not None, f"not repaired within {SLA_SECONDS} s"
    assert until(lambda: bool(seen), 1.0) is not None
    assert seen[-1].drift and seen[-1].written >= 1
    assert seen[-1].seconds < SLA_SECONDS
    print(f"repaired {tamper[0]} in {took:.3f} s (daemon: {seen[-1].seconds:.3f} s)")


def test_reconciler_leaves_foreign_rows_alone(
    running: tuple[Reconciler, list[Repair]], ovn_central: OvnDeployment
) -> None:
    """The legitimate twin: an operator's own switch is not drift and survives the daemon."""
    reconciler, seen = running
    nbctl(ovn_central, "ls-add", "operator-switch")
    try:
        time.sleep(1.0)
        assert nbctl(ovn_central, "--bare", "--columns=name", "find", "Logical_Switch",
                     "name=operator-switch").split() == ["operator-switch"]  # fmt: skip
        assert seen == []
        assert reconciler.check() is None
    finally:
        nbctl(ovn_central, "ls-del", "operator-switch")
