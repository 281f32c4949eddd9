"""``reconcile``: keep the Northbound database equal to the estate, repairing hand edits.

``tenantry reconcile`` compares and repairs once; with ``--watch`` it stays running and repairs
every change the database notifies (THREATS row 10: drift repaired within seconds without a
person running ``drift``). Each repair is audited (``dataplane.drift.detected`` then
``dataplane.drift.repaired``, with how long it took). SIGTERM or Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from tenantry.audit import Outcome as AuditOutcome
from tenantry.cli.context import state
from tenantry.cli.lab import LabDir, Specs, environment_of, estate_of
from tenantry.cli.main import app
from tenantry.compiler import compile_estate
from tenantry.dataplane.environment import require_root
from tenantry.dataplane.ovn import Reconciler, Repair


@app.command("reconcile")
def reconcile(
    *,
    directory: LabDir = None,
    spec: Specs = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep running; repair on every database change.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="With --watch, also compare every N s.")
    ] = 10.0,
    duration: Annotated[float, typer.Option("--duration", hidden=True)] = 0.0,
) -> None:
    """Repair what differs between the Northbound database and the estate (audited)."""
    require_root("tenantry reconcile")
    env = environment_of(directory)
    try:
        programs = compile_estate(estate_of(spec))
        reconciler = Reconciler(env.backend(), programs, interval=interval, on_repair=_audited)
        if not watch:
            if reconciler.check() is None:
                state.out.print("No drift: the Northbound database enforces the estate.")
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: reconciler.stop())
        if duration > 0:
            timer = threading.Timer(duration, reconciler.stop)
            timer.daemon = True
            timer.start()
        state.out.print("Reconciling on every Northbound change (SIGTERM to stop).")
        reconciler.run()
        state.out.print(f"Stopped after {len(reconciler.repairs)} repair(s).")
    finally:
        env.close()


def _audited(repair: Repair) -> None:
    service = state.service()
    actor = state.actor()
    targets = tuple(sorted({f"{c.table}:{c.key}" for c in repair.drift}))[:100]
    service.record(
        actor,
        "dataplane.drift.detected",
        AuditOutcome.SUCCEEDED,
        targets=targets,
        details={"count": len(repair.drift)},
    )
    service.record(
        actor,
        "dataplane.drift.repaired",
        AuditOutcome.SUCCEEDED,
        targets=targets,
        details={"count": repair.written, "milliseconds": round(repair.seconds * 1000)},
    )
    for change in repair.drift:
        state.out.print(f"[yellow]drift[/] {change}")
    state.out.print(f"Repaired {repair.written} difference(s) in {repair.seconds * 1000:.0f} ms.")
