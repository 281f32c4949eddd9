"""``lab``, ``attack`` and ``drift``: the estate on real OVS/OVN with namespaced guests.

``lab up`` enforces the estate (the store's, or the given spec files) on an OVS/OVN
deployment it starts on this machine and builds the guests; ``lab down`` removes exactly what
it built. ``attack run`` stages the attack catalogue from inside the guests and reports each
attack blocked, leaked, inconclusive or crashed. ``drift`` compares the Northbound database
with the estate and, with ``--repair``, restores it; both are audited.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tenantry.audit import Outcome as AuditOutcome
from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane.attackrun import attack_lab
from tenantry.dataplane.environment import LabEnvironment, require_root
from tenantry.dataplane.lab.runner import Finding, Outcome
from tenantry.dataplane.ovn import OvnBackend
from tenantry.model import Estate
from tenantry.settings import Settings
from tenantry.spec import load_specs

lab_app = typer.Typer(help="Run the estate on real OVS/OVN with guests in namespaces (root).")
attack_app = typer.Typer(help="Attack the lab from inside its guests (root).")
app.add_typer(lab_app, name="lab")
app.add_typer(attack_app, name="attack")

LabDir = Annotated[
    Path | None,
    typer.Option("--dir", help="Lab state directory (default: $TENANTRY_HOME/lab)."),
]
Specs = Annotated[
    list[Path] | None,
    typer.Option("--spec", help="Spec files to use instead of the store's estate."),
]
_STYLE = {
    Outcome.BLOCKED: "green",
    Outcome.LEAKED: "bold red",
    Outcome.INCONCLUSIVE: "yellow",
    Outcome.CRASHED: "bold red",
}


def environment_of(directory: Path | None) -> LabEnvironment:
    """The lab environment in ``directory`` (default: $TENANTRY_HOME/lab)."""
    return LabEnvironment(directory or Settings().home / "lab")


def estate_of(specs: list[Path] | None) -> Estate:
    """The estate of the given spec files, or else the store's."""
    if specs:
        return load_specs(specs).estate
    return state.service().estate(state.actor())


@lab_app.command("up")
def lab_up(directory: LabDir = None, spec: Specs = None, chassis: int = 2) -> None:
    """Start OVS/OVN, enforce the estate, create one namespace per guest."""
    require_root("tenantry lab up")
    env = environment_of(directory)
    env.layout.chassis = chassis
    try:
        env.up(estate_of(spec))
        _show_guests(env)
    finally:
        env.close()


@lab_app.command("down")
def lab_down(directory: LabDir = None) -> None:
    """Remove the guests, stop the daemons, delete what `lab up` created."""
    require_root("tenantry lab down")
    removed = environment_of(directory).down()
    state.out.print(f"Removed {len(removed)} guest(s) and the OVS/OVN deployment.")


@lab_app.command("status")
def lab_status(directory: LabDir = None) -> None:
    """Daemons (pid or DOWN) and guests of the lab."""
    require_root("tenantry lab status")
    env = environment_of(directory)
    try:
        table = Table("daemon", "pid", box=None, header_style="bold")
        for name, pid in env.liveness().items():
            table.add_row(name, str(pid) if pid else "[red]DOWN[/]")
        state.out.print(table)
        _show_guests(env)
    finally:
        env.close()


@lab_app.command("exec", context_settings={"allow_extra_args": True})
def lab_exec(
    guest: Annotated[str, typer.Argument(help="Guest name (tenant/guest).")],
    command: Annotated[list[str], typer.Argument(help="Command to run inside the guest.")],
    directory: LabDir = None,
) -> None:
    """Run a command inside a guest (its namespace and cgroups)."""
    require_root("tenantry lab exec")
    process = environment_of(directory).lab.spawn(guest, command)
    raise typer.Exit(process.wait())


def _show_guests(env: LabEnvironment) -> None:
    table = Table("guest", "chassis", "namespace", "vNICs", box=None, header_style="bold")
    for guest in env.lab.guests.values():
        nics = "; ".join(f"{n.ifname} {n.mac} {' '.join(n.addresses)}" for n in guest.nics)
        table.add_row(guest.name, guest.chassis, guest.netns, nics)
    state.out.print(table)


@attack_app.command("run")
def attack_run(
    names: Annotated[
        list[str] | None, typer.Argument(help="Attacks to run (default: all).")
    ] = None,
    directory: LabDir = None,
    output: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Stage every attack (or the named ones) with its control; exit 1 unless all blocked."""
    require_root("tenantry attack run")
    env = environment_of(directory)
    try:
        programs = env.backend().read_back()
        report = attack_lab(env, programs, names or (), progress=_print_finding)
    finally:
        env.close()
    _summary(report.findings, report.crashed, report.seconds)
    if output is not None:
        output.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    if not report.passed:
        raise typer.Exit(1)


def _print_finding(finding: Finding) -> None:
    style = _STYLE[finding.outcome]
    evidence = finding.leaks[0] if finding.leaks else ", ".join(finding.control_missing)
    state.out.print(
        f"[{style}]{finding.outcome:<12}[/] {finding.threat:<7} {finding.name:<30} "
        f"{finding.attacker:<24} {evidence[:80]}"
    )


def _summary(findings: list[Finding], crashed: list[str], seconds: float) -> None:
    counts = {outcome: sum(f.outcome is outcome for f in findings) for outcome in Outcome}
    parts = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    state.out.print(f"{len(findings)} attacks in {seconds:.0f} s: {parts}.")
    if crashed:
        state.out.print(f"[bold red]finding[/]: daemons died during the run: {', '.join(crashed)}")


@app.command("drift")
def drift(
    *,
    directory: LabDir = None,
    spec: Specs = None,
    repair: Annotated[bool, typer.Option("--repair", help="Restore what differs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    watch: Annotated[
        float | None,
        typer.Option("--watch", help="Keep checking (and with --repair, repairing) every N s."),
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", hidden=True)] = 0,
) -> None:
    """Compare the Northbound database with the estate; exit 1 on unrepaired drift."""
    require_root("tenantry drift")
    env = environment_of(directory)
    found = False
    try:
        programs = compile_estate(estate_of(spec))
        backend = env.backend()
        done = 0
        while True:
            found = _check(backend, programs, repair=repair, as_json=as_json) or found
            done += 1
            if watch is None or (rounds and done >= rounds):
                break
            time.sleep(watch)
    finally:
        env.close()
    if found and not repair:
        raise typer.Exit(1)


def _check(backend: OvnBackend, programs: Programs, *, repair: bool, as_json: bool) -> bool:
    """One comparison (and repair); audited when something differs. Whether it did."""
    service = state.service()
    actor = state.actor()
    changes = backend.drift(programs)
    if as_json:
        state.out.print_json(json.dumps([c.as_dict() for c in changes]))
    else:
        for change in changes:
            state.out.print(f"[yellow]drift[/] {change}")
    if not changes:
        if not as_json:
            state.out.print("No drift: the Northbound database enforces the estate.")
        return False
    service.record(
        actor,
        "dataplane.drift.detected",
        AuditOutcome.SUCCEEDED,
        targets=tuple(sorted({f"{c.table}:{c.key}" for c in changes}))[:100],
        details={"count": len(changes)},
    )
    if repair:
        backend.apply(programs)
        service.record(
            actor,
            "dataplane.drift.repaired",
            AuditOutcome.SUCCEEDED,
            details={"count": len(backend.last_changes)},
        )
        state.out.print(f"Repaired {len(backend.last_changes)} difference(s).")
    return True
