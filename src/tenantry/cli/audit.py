"""``audit``: the tamper-evident trail: read it, prove it, export it, bundle it, verify it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tenantry.audit import (
    SignedTreeHead,
    Verdict,
    leaf_hash,
    load_public_key,
    log_id_of,
    public_key_pem,
    verify_inclusion,
)
from tenantry.audit.bundle import Bundle
from tenantry.audit.bundle_check import verify_bundle
from tenantry.audit.export import ExportFormat, export_lines
from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.errors import AuditIntegrityError, InputError
from tenantry.service.signing import load_signing_key
from tenantry.service.witness import read_checkpoints
from tenantry.settings import Settings

__all__ = ["audit_app"]

audit_app = typer.Typer(
    name="audit",
    help="The tamper-evident audit trail: tail, prove, export, bundle and verify it.",
    no_args_is_help=True,
)
checkpoint_app = typer.Typer(
    name="checkpoint",
    help="Publish signed heads to a witness directory, and check the log against it.",
    no_args_is_help=True,
)
audit_app.add_typer(checkpoint_app)
app.add_typer(audit_app)

Tenant = Annotated[
    str | None,
    typer.Option("--tenant", help="The tenant's view: only its entries, proven against the head."),
]
Witness = Annotated[
    Path | None,
    typer.Option("--witness", help="A directory of checkpoints held elsewhere to check against."),
]


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"


@audit_app.command()
def tail(
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many entries.")] = 20,
    tenant: Tenant = None,
    output: Annotated[Output, typer.Option("--output", "-o")] = Output.TABLE,
) -> None:
    """Show the newest entries."""
    entries = state.service().audit.entries(state.actor(), tenant=tenant, last=count)
    if output is Output.JSON:
        for entry in entries:
            state.out.print(json.dumps({"seq": entry.seq, **json.loads(entry.body)}), markup=False)
        return
    for entry in entries:
        record = entry.record()
        outcome = str(record.outcome)
        if record.reason:
            outcome += f" ({record.reason.split(':', 1)[0]})"
        state.out.print(
            f"{entry.seq:>6}  {record.time.astimezone(UTC):%Y-%m-%d %H:%M:%S}  "
            f"{record.actor:<16} {record.action:<8} {outcome:<10} "
            f"{','.join(record.tenants) or '-':<10} {', '.join(record.targets)}",
            markup=False,
            highlight=False,
        )


@audit_app.command()
def head(
    output: Annotated[Output, typer.Option("--output", "-o")] = Output.TABLE,
) -> None:
    """Show the newest signed tree head and the log's identity."""
    service = state.service()
    signed = service.audit.head(state.actor())
    if output is Output.JSON:
        state.out.print_json(json.dumps(signed.to_json()))
        return
    state.out.print(
        f"size {signed.size}\nroot {signed.root.hex()}\nsigned {_when(signed)}\n"
        f"log id {signed.log_id}\nsignature verifies with the key of `tenantry audit key`",
        markup=False,
    )


@audit_app.command()
def key(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it here.")] = None,
) -> None:
    """Print the public key that verifies the log (give it to tenants and auditors to pin)."""
    text = public_key_pem(state.service().audit.public_key())
    if output is None:
        state.out.print(text, end="", markup=False)
    else:
        output.write_text(text, encoding="utf-8")
        state.err.print(f"wrote {output}")


@audit_app.command()
def prove(
    seq: Annotated[int, typer.Argument(min=0, help="The entry's position in the log.")],
    tenant: Tenant = None,
) -> None:
    """Print an entry, its inclusion proof and the signed head it is proven against (JSON)."""
    entry, proof, signed = state.service().audit.prove(state.actor(), seq, tenant=tenant)
    verified = verify_inclusion(leaf_hash(entry.body), seq, signed.size, proof.path, signed.root)
    document = {
        "entry": {"seq": entry.seq, "body": entry.body.decode()},
        "proof": proof.to_json(),
        "head": signed.to_json(),
        "verified": verified,
    }
    state.out.print_json(json.dumps(document))


@audit_app.command()
def consistency(
    old: Annotated[int, typer.Argument(min=0, help="The older tree size.")],
    new: Annotated[int | None, typer.Argument(min=0, help="The newer size (default: now).")] = None,
) -> None:
    """Print the proof that the log of size NEW extends the log of size OLD (JSON)."""
    proof, old_head, new_head = state.service().audit.consistency(state.actor(), old, new)
    document = {
        "proof": proof.to_json(),
        "old_head": None if old_head is None else old_head.to_json(),
        "new_head": new_head.to_json(),
    }
    state.out.print_json(json.dumps(document))


@audit_app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ExportFormat.JSONL
    ),
    tenant: Tenant = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
) -> None:
    """Export the trail as JSON lines, CSV, or CADF events (one JSON event per line)."""
    service = state.service()
    actor = state.actor()
    log_id = service.audit.head(actor).log_id
    entries = ((e.seq, e.body) for e in service.audit.iter_entries(actor, tenant=tenant))
    lines = export_lines(entries, fmt, log_id=log_id)
    if output is None:
        for line in lines:
            state.out.file.write(line)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    state.err.print(f"wrote {output}")


@audit_app.command()
def bundle(
    output: Annotated[Path, typer.Option("--output", "-o", help="The bundle file to write.")],
    at: Annotated[
        int | None,
        typer.Option("--at", min=0, help="Generation to capture (default: the current one)."),
    ] = None,
    tenant: Tenant = None,
    witness: Witness = None,
) -> None:
    """Write a signed forensic bundle: entries, proofs, heads and the estate at a generation."""
    service = state.service()
    actor = state.actor()
    generation = service.snapshot().generation if at is None else at
    checkpoints = [] if witness is None else read_checkpoints(witness)
    built = service.audit.bundle(
        actor, tenant=tenant, generation=generation or None, checkpoints=checkpoints
    )
    output.write_text(built.dumps(), encoding="utf-8")
    state.err.print(
        f"wrote {output}: {len(built.entries)} entries, head of size {built.head.size}, "
        f"generation {built.generation}"
    )


@audit_app.command()
def verify(
    bundle_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[BUNDLE]", help="A bundle to check offline (default: the stored log)."
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option("--key", help="The public key to pin (PEM or hex), as given by the provider."),
    ] = None,
    witness: Witness = None,
) -> None:
    """Verify the stored log, or a bundle offline; exit 1 naming the first bad entry.

    The log's identity is pinned to --key, else to this machine's signing key, else (for a
    bundle) to the log id of the witness's checkpoints; with none of them, nothing is trusted.
    """
    public_key = None if key_file is None else load_public_key(_read(key_file))
    trusted: list[SignedTreeHead] = [] if witness is None else read_checkpoints(witness)
    if public_key is None:
        public_key = _local_key()
    if bundle_file is None:
        verdict = state.service().audit.verify(public_key=public_key, trusted=trusted)
        _report(verdict)
        return
    loaded = Bundle.loads(_read(bundle_file))
    if public_key is None and trusted:
        # The witness's signed heads name the log they belong to: the bundle must be that log.
        witnessed = {c.log_id for c in trusted}
        public_key = loaded.public_key if log_id_of(loaded.public_key) in witnessed else b""
        if not public_key:
            raise AuditIntegrityError(
                f"the bundle is signed by log {log_id_of(loaded.public_key)[:16]}, which is not "
                "the log of the witness's checkpoints"
            )
    if public_key is None:
        raise InputError(
            "nothing to pin the log's identity to: pass --key (the provider's public key, "
            "`tenantry audit key`) or --witness (a directory of checkpoints you kept)"
        )
    _report(verify_bundle(loaded, public_key=public_key, trusted=trusted))


@checkpoint_app.command("publish")
def checkpoint_publish(
    directory: Annotated[Path, typer.Argument(help="The witness directory.")],
) -> None:
    """Write the newest signed head to DIRECTORY, if the log extends everything already there."""
    signed, path = state.service().audit.publish(state.actor(), directory)
    state.out.print(f"published head of size {signed.size} to {path}", markup=False)


@checkpoint_app.command("check")
def checkpoint_check(
    directory: Annotated[Path, typer.Argument(help="The witness directory.")],
) -> None:
    """Check that the log extends every checkpoint in DIRECTORY (flags forks and rollbacks)."""
    _report(state.service().audit.check_witness(state.actor(), directory))


def _report(verdict: Verdict) -> None:
    for note in verdict.notes:
        state.err.print(f"[yellow]note[/]: {note}", markup=True)
    for finding in verdict.findings:
        state.out.print(str(finding), markup=False)
    if not verdict.ok:
        raise AuditIntegrityError(verdict.summary())
    state.out.print(verdict.summary(), markup=False)


def _local_key() -> bytes | None:
    """This machine's signing key, if it has one (never created just to verify)."""
    path = Settings().audit_key_path()
    if not path.exists():
        return None
    return load_signing_key(path, create=False).public_key()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def _when(signed: SignedTreeHead) -> str:
    return datetime.fromtimestamp(signed.head.timestamp / 1000, UTC).isoformat(timespec="seconds")
