"""``verify``: prove isolation between every pair of tenants, or show how it breaks."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.errors import BackendUnavailableError
from tenantry.model import Estate
from tenantry.service.isolation import replay, verify_estate
from tenantry.settings import Settings
from tenantry.spec import load_specs
from tenantry.verify import Report, diff_reports
from tenantry.verify.report import FULL_MATRIX_TENANTS

SpecFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--spec",
        help="Verify the estate these spec files declare instead of the store (repeatable).",
        dir_okay=False,
    ),
]


class BackendChoice(StrEnum):
    """What is verified: the compiled programs (reference) or the OVN Northbound read back."""

    REFERENCE = "reference"
    OVN = "ovn"


def _estate(spec: list[Path] | None) -> Estate:
    if spec:
        # structural rules are not applied: a leaky spec is exactly what verify is for
        return load_specs(spec, check=False).estate
    return state.service().snapshot().estate


def _render(report: Report, replays: list[list[str]], *, full_matrix: bool, where: str) -> None:
    out = state.out
    colour = "green" if report.isolated else "red"
    out.print(f"[bold {colour}]{report.summary()}[/]", markup=True)
    if full_matrix or (report.tenants and len(report.tenants) <= FULL_MATRIX_TENANTS):
        table = Table(title="isolation matrix (row reaches column)", show_lines=False)
        table.add_column("from \\ to")
        for tenant in report.tenants:
            table.add_column(tenant)
        for tenant, row in zip(report.tenants, report.matrix(), strict=True):
            table.add_row(tenant, *[cell or "ok" for cell in row])
        out.print(table)
    for leak, problems in zip(report.leaks, replays, strict=False):
        out.print(
            f"\n[bold]{escape(leak.source)} -> {escape(leak.target)}[/] "
            f"{escape(f'[{leak.kind}]')} {escape(leak.cause)}",
            markup=True,
        )
        out.print(str(leak.counterexample), markup=False)
        if leak.counterexample.hops:
            confirmed = (
                f"replayed {where}: delivered"
                if not problems
                else (f"replayed {where}: NOT delivered: " + "; ".join(problems))
            )
            out.print(f"  [dim]{confirmed}[/]", markup=True)


@app.command("verify")
def verify_command(  # noqa: PLR0917 - Typer maps each parameter to an option
    spec: SpecFiles = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    full_matrix: Annotated[
        bool, typer.Option("--matrix", help="Show the full matrix even for many tenants.")
    ] = False,
    diff: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--diff",
            help="Show the connectivity between tenants that going from spec A to spec B adds "
            "or removes.",
            metavar="A B",
            dir_okay=False,
        ),
    ] = None,
    backend: Annotated[
        BackendChoice,
        typer.Option(
            "--backend",
            help="reference: verify the compiled estate and replay on the reference data "
            "plane; ovn: verify what the OVN Northbound database holds (read back) and replay "
            "with ovn-trace (root).",
        ),
    ] = BackendChoice.REFERENCE,
    ovn_dir: Annotated[
        Path | None,
        typer.Option(
            "--ovn-dir",
            help="Run directory of the OVN databases (nb.sock, sb.sock); default: the lab's.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Prove that no frame, packet or disk crosses between tenants except through declared
    shared services; every leak comes with a counterexample. Exit status 1 on a leak."""
    if diff is not None:
        _diff(diff, as_json=as_json)
        return
    estate = _estate(spec)
    if backend is BackendChoice.OVN:
        report, replays = _verify_ovn(estate, ovn_dir)
        where = "with ovn-trace"
    else:
        programs, report = verify_estate(estate)
        replays = [replay(programs, estate, leak.counterexample) for leak in report.leaks]
        where = "on the reference backend"
    if as_json:
        body = report.to_dict(full_matrix=True if full_matrix else None)
        body["backend"] = str(backend)
        for item, problems in zip(body["leaks"], replays, strict=True):  # type: ignore[call-overload]
            item["replayed"] = not problems
            if problems:
                item["replay_problems"] = problems
        state.out.print_json(json.dumps(body))
    else:
        _render(report, replays, full_matrix=full_matrix, where=where)
    if not report.isolated:
        raise typer.Exit(report.exit_code)


def _verify_ovn(estate: Estate, ovn_dir: Path | None) -> tuple[Report, list[list[str]]]:
    """The proof of the Northbound read back, and each counterexample traced by ovn-trace."""
    # imported here: the core install (no ovsdbapp, no lab) must still start the CLI
    try:
        from tenantry.service.isolation_ovn import (  # noqa: PLC0415
            OvnReplayer,
            verify_northbound,
        )

        chassis_of_host = None
        if ovn_dir is None:
            from tenantry.dataplane.environment import LabEnvironment  # noqa: PLC0415

            lab = LabEnvironment(Settings().home / "lab")
            ovn_dir, chassis_of_host = lab.ovn_dir, lab.layout.chassis_of_host or None
    except ModuleNotFoundError as exc:
        raise BackendUnavailableError(
            f"`tenantry verify --backend ovn` needs the Python package {exc.name!r}, "
            "which is not installed",
            hint="pip install 'tenantry[ovn]' (and 'tenantry[lab]' for the lab's OVN).",
        ) from exc
    programs, report = verify_northbound(estate, ovn_dir, chassis_of_host)
    if not report.leaks:
        return report, []
    replayer = OvnReplayer(programs, ovn_dir)
    try:
        return report, [replayer.replay(leak.counterexample) for leak in report.leaks]
    finally:
        replayer.close()


def _diff(files: tuple[Path, Path], *, as_json: bool) -> None:
    before = verify_estate(load_specs([files[0]], check=False).estate)[1]
    after = verify_estate(load_specs([files[1]], check=False).estate)[1]
    reach = diff_reports(before, after)
    if as_json:
        state.out.print_json(json.dumps(reach.to_dict()))
        return
    if reach.is_empty:
        state.out.print("no change in connectivity between tenants")
        return
    for sign, found, colour in (("+", reach.added, "red"), ("-", reach.removed, "green")):
        for (a, b), kinds in found.items():
            shown = ", ".join(str(k) for k in kinds)
            state.out.print(f"[{colour}]{sign} {a} -> {b} ({shown})[/]", markup=True)
