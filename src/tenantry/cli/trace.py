"""``trace`` and ``replay``: what the data plane does with a packet, and with a capture."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane import Verdict, decode
from tenantry.dataplane.capture import read_capture
from tenantry.dataplane.probe import Probe, build_probe
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.errors import FrameError, InputError
from tenantry.spec import load_specs

SpecFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--spec",
        help="Trace against these spec files instead of the store (repeatable).",
        dir_okay=False,
    ),
]
Port = Annotated[str, typer.Option("--from", help="The sending port: tenant/guest/vnic.")]


def _programs(spec: list[Path] | None) -> Programs:
    if spec:
        return compile_estate(load_specs(spec).estate)
    return compile_estate(state.service().snapshot().estate)


def _verdict_json(backend: ReferenceBackend, verdict: Verdict) -> dict[str, object]:
    programs = backend.programs
    return {
        "action": str(verdict.action),
        "stage": str(verdict.stage),
        "reason": str(verdict.reason),
        "rule": str(verdict.rule) if verdict.rule else None,
        "egress": [programs.port_name(r) for r in verdict.egress],
        "log": verdict.log,
        "steps": [
            {"stage": str(s.stage), "outcome": s.outcome, "detail": s.detail} for s in verdict.steps
        ],
    }


def _render(backend: ReferenceBackend, probe: Probe, verdict: Verdict) -> None:
    out = state.out
    out.print(f"[bold]trace[/] {probe.description}", markup=True)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="cyan")
    table.add_column()
    table.add_column(style="dim")
    for step in verdict.steps:
        table.add_row(str(step.stage), step.outcome, step.detail)
    out.print(table)
    egress = ", ".join(backend.programs.port_name(r) for r in verdict.egress)
    colour = {"forward": "green", "drop": "red", "reply": "yellow"}[str(verdict.action)]
    summary = f"[bold {colour}]{verdict.action}[/] ({verdict.reason}"
    summary += f", {verdict.rule})" if verdict.rule else ")"
    if egress:
        summary += f" -> {egress}"
    out.print(f"verdict: {summary}", markup=True)


@app.command()
def trace(
    *,
    source: Port,
    to: Annotated[str | None, typer.Option("--to", help="The receiving port.")] = None,
    proto: Annotated[str, typer.Option("--proto", help="tcp, udp, icmp, icmpv6 or arp.")] = "tcp",
    dport: Annotated[int | None, typer.Option("--dport", min=0, max=65535)] = None,
    sport: Annotated[int, typer.Option("--sport", min=0, max=65535)] = 40000,
    dst_ip: Annotated[str | None, typer.Option("--dst-ip")] = None,
    src_ip: Annotated[str | None, typer.Option("--src-ip", help="Spoof the source.")] = None,
    dst_mac: Annotated[str | None, typer.Option("--dst-mac")] = None,
    src_mac: Annotated[str | None, typer.Option("--src-mac", help="Forge the source.")] = None,
    vlan: Annotated[int | None, typer.Option("--vlan", help="Tag the frame (trunks).")] = None,
    ipv6: Annotated[bool, typer.Option("--ipv6", help="Use the IPv6 addresses.")] = False,
    hex_frame: Annotated[
        str | None, typer.Option("--hex", help="The whole frame as hex (overrides fields).")
    ] = None,
    spec: SpecFiles = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show what the data plane does with one packet, stage by stage (like ovn-trace)."""
    backend = ReferenceBackend(_programs(spec))
    if hex_frame is not None:
        try:
            frame = bytes.fromhex(hex_frame.replace(":", "").replace(" ", ""))
        except ValueError as exc:
            raise InputError(f"--hex: not hexadecimal: {exc}") from exc
        probe = Probe(backend.port(source), frame, f"{source} > {len(frame)} bytes")
    else:
        probe = build_probe(
            backend.programs,
            source=source,
            to=to,
            proto=proto,
            dport=dport,
            sport=sport,
            dst_ip=dst_ip,
            src_ip=src_ip,
            dst_mac=dst_mac,
            src_mac=src_mac,
            vlan=vlan,
            ipv6=ipv6,
        )
    verdict = backend.classify(probe.frame, probe.ingress)
    if as_json:
        state.out.print_json(json.dumps(_verdict_json(backend, verdict)))
        return
    _render(backend, probe, verdict)


def _flow(data: bytes) -> str:
    try:
        frame = decode(data)
    except FrameError:
        return "(malformed)"
    ip, l4 = frame.ip, frame.l4
    if frame.arp is not None:
        return f"arp {frame.arp.sender_ip:08x} > {frame.arp.target_ip:08x}"
    if ip is None:
        return f"ethertype 0x{frame.ethertype:04x}"
    from ipaddress import ip_address  # noqa: PLC0415 - only here

    width = 4 if ip.version == 4 else 16
    src = ip_address(ip.src.to_bytes(width, "big"))
    dst = ip_address(ip.dst.to_bytes(width, "big"))
    if l4 is not None and l4.icmp_type < 0:
        return f"{src}:{l4.sport} > {dst}:{l4.dport} proto {ip.proto}"
    return f"{src} > {dst} proto {ip.proto}"


@app.command()
def replay(
    capture: Annotated[Path, typer.Argument(help="A pcap or pcapng file.", dir_okay=False)],
    port: Annotated[str, typer.Option("--port", help="The port that sent the frames.")],
    spec: SpecFiles = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Replay a capture as if the port sent it: verdict counts per flow and reason."""
    backend = ReferenceBackend(_programs(spec))
    row = backend.port(port)
    counts: Counter[tuple[str, str, str]] = Counter()
    total = 0
    for captured in read_capture(capture):
        verdict = backend.classify(captured.data, row)
        counts[(_flow(captured.data), str(verdict.action), str(verdict.reason))] += 1
        total += 1
    if as_json:
        rows = [
            {"flow": f, "action": a, "reason": r, "count": n}
            for (f, a, r), n in sorted(counts.items())
        ]
        state.out.print_json(json.dumps({"frames": total, "flows": rows}))
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("flow", "verdict", "reason", "frames"):
        table.add_column(column)
    for (flow, action, reason), n in sorted(counts.items()):
        table.add_row(flow, action, reason, str(n))
    state.out.print(table)
    state.out.print(f"{total} frames from {port}")
