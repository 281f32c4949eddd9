"""``tenantry disk``: allocate, read, write and verify encrypted virtual disks.

``read`` and ``write`` act as the host agent of a guest: the disk's key is released only if
the guest is a running guest of the disk's tenant on a trusted host. Until attestation is
set up no host is trusted; ``--unsafe-trust-host`` trusts ``--host`` for this one command
(tests and tools), which the audit trail records.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tenantry.cli.context import state
from tenantry.cli.keys import open_tenant_keys, read_input
from tenantry.cli.main import app
from tenantry.errors import InputError
from tenantry.keys import (
    DataKey,
    HostTrust,
    RecipientKey,
    UnsafeStaticHostTrust,
    read_signing_key_pem,
)
from tenantry.keys.disk import DEFAULT_BLOCK_SIZE, EncryptedDisk, read_header, verify_image
from tenantry.model import Ref, parse_bytes
from tenantry.service import TenantKeys, open_guest_disk, release_for_image
from tenantry.settings import Settings

__all__ = ["disk_app"]

disk_app = typer.Typer(
    name="disk",
    help="Encrypted, signed virtual disks: create, read, write, verify.",
    no_args_is_help=True,
)
app.add_typer(disk_app)

Image = Annotated[Path, typer.Argument(help="The disk image file.", dir_okay=False)]
Guest = Annotated[str, typer.Option("--guest", "-g", help="The guest, as tenant/name.")]
Host = Annotated[str, typer.Option("--host", help="The host the guest runs on.")]
UnsafeTrust = Annotated[
    bool,
    typer.Option(
        "--unsafe-trust-host",
        help="Trust --host without attestation for this command (tests and tools only).",
    ),
]


def _datastores(value: Path | None) -> Path:
    return value or Settings().home / "datastores"


def _guest_ref(text: str) -> Ref:
    ref = Ref.parse(text, default_owner="")
    if not ref.owner:
        raise InputError(f"--guest {text!r}: write the guest as tenant/name")
    return ref


def _trust(host: str, recipient: RecipientKey, unsafe: bool) -> HostTrust | None:
    if not unsafe:
        return None
    state.err.print(f"[yellow]warning[/]: trusting host {host} without attestation", markup=True)
    return UnsafeStaticHostTrust({host: {recipient.fingerprint}})


def _guest_disk(
    image: Path, guest: str, host: str, unsafe_trust: bool, *, writable: bool
) -> tuple[TenantKeys, EncryptedDisk]:
    recipient = RecipientKey.generate()
    keys = open_tenant_keys(_trust(host, recipient, unsafe_trust))
    try:
        disk = open_guest_disk(
            keys,
            image,
            _guest_ref(guest),
            host,
            recipient,
            writable=writable,
            requester=str(state.actor()),
        )
    except BaseException:
        keys.close()
        raise
    return keys, disk


@disk_app.command()
def create(  # noqa: PLR0917 - Typer maps each parameter to an option
    guest: Annotated[str, typer.Argument(help="The guest, as tenant/name.")],
    disk: Annotated[str, typer.Argument(help="The disk's name in the guest's spec.")],
    datastores: Annotated[
        Path | None,
        typer.Option(
            "--datastores",
            envvar="TENANTRY_DATASTORES",
            help="Directory with one directory per datastore (default: $TENANTRY_HOME/datastores).",
        ),
    ] = None,
    size: Annotated[
        str | None, typer.Option("--size", help="Override the spec's size (e.g. 64MiB).")
    ] = None,
    block_size: Annotated[int, typer.Option("--block-size", help="Bytes per block.")] = (
        DEFAULT_BLOCK_SIZE
    ),
    thick: Annotated[
        bool, typer.Option("--thick", help="Reserve the space now (posix_fallocate).")
    ] = False,
) -> None:
    """Allocate a guest's disk: a fresh data key in the HSM, a signed empty image of zeros."""
    with open_tenant_keys() as keys:
        path, header = keys.create_disk(
            state.actor(),
            _guest_ref(guest),
            disk,
            _datastores(datastores),
            size=None if size is None else int(parse_bytes(size)),
            block_size=block_size,
            preallocate=thick,
        )
    state.out.print(f"created {path} (disk id {header.disk_id})", markup=False)


@disk_app.command()
def write(  # noqa: PLR0917 - Typer maps each parameter to an option
    image: Image,
    guest: Guest,
    host: Host,
    offset: Annotated[int, typer.Option("--offset", help="Byte offset.", min=0)] = 0,
    data: Annotated[str | None, typer.Option("--data", help="Text to write (UTF-8).")] = None,
    source: Annotated[
        Path | None, typer.Option("--input", "-i", help="File whose bytes to write.")
    ] = None,
    unsafe_trust_host: UnsafeTrust = False,
) -> None:
    """Write bytes as the guest's host agent, then seal a new signed generation."""
    if (data is None) == (source is None):
        raise InputError("give exactly one of --data and --input")
    payload = data.encode() if data is not None else read_input(source or Path(), "input")
    keys, disk = _guest_disk(image, guest, host, unsafe_trust_host, writable=True)
    try:
        disk.write(offset, payload)
        header = disk.flush()
    finally:
        disk.close()
        keys.close()
    state.out.print(
        f"wrote {len(payload)} bytes at {offset}; sealed generation {header.generation}",
        markup=False,
    )


@disk_app.command()
def read(  # noqa: PLR0917 - Typer maps each parameter to an option
    image: Image,
    guest: Annotated[str | None, typer.Option("--guest", "-g", help="tenant/name")] = None,
    host: Annotated[str | None, typer.Option("--host", help="The guest's host.")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    length: Annotated[int | None, typer.Option("--length", min=0)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="The stored bytes (ciphertext), without any key.")
    ] = False,
    unsafe_trust_host: UnsafeTrust = False,
) -> None:
    """Read bytes as the guest's host agent (plaintext), or --raw as stored (ciphertext)."""
    if raw:
        header = read_header(image)
        count = length if length is not None else header.block_size
        with image.open("rb") as file:
            file.seek(header.geometry.data_offset + offset)
            payload = file.read(count)
    else:
        if guest is None or host is None:
            raise InputError("reading plaintext needs --guest and --host (or use --raw)")
        keys, disk = _guest_disk(image, guest, host, unsafe_trust_host, writable=False)
        try:
            payload = disk.read(offset, length if length is not None else disk.size - offset)
        finally:
            disk.close()
            keys.close()
    if out is None:
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(payload)


@disk_app.command()
def verify(
    image: Image,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="The tenant's signing key (PEM); default: from the store."
        ),
    ] = None,
    guest: Annotated[
        str | None, typer.Option("--guest", "-g", help="Also decrypt every block, as this guest.")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="The guest's host.")] = None,
    unsafe_trust_host: UnsafeTrust = False,
) -> None:
    """Check that an image is exactly what its guests sealed; exit 1 if it is not."""
    header = read_header(image)
    key: DataKey | None = None
    min_generation = 0
    if public_key is not None:
        signing = read_signing_key_pem(read_input(public_key, "public key"), source=str(public_key))
    else:
        with open_tenant_keys() as keys:
            signing = keys.signing_key(state.actor(), header.tenant)
    if guest is not None:
        if host is None:
            raise InputError("--guest needs --host")
        recipient = RecipientKey.generate()
        with open_tenant_keys(_trust(host, recipient, unsafe_trust_host)) as keys:
            released, key = release_for_image(
                keys, image, _guest_ref(guest), host, recipient, requester=str(state.actor())
            )
        min_generation = released.generation
    report = verify_image(image, signing_key=signing, key=key, min_generation=min_generation)
    for problem in report.problems:
        state.out.print(f"FAIL {problem}", markup=False)
    if not report.ok:
        raise typer.Exit(1)
    checked = f", {report.authenticated} authenticated" if key is not None else ""
    state.out.print(
        f"OK {header.tenant}/{header.guest}/{header.disk} generation {header.generation}: "
        f"{report.written} written blocks{checked}",
        markup=False,
    )
