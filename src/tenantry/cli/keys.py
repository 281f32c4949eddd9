"""``tenantry keys``: tenant-held keys, from the tenant's own machine to the provider's HSM.

``generate`` and ``wrap`` run on the tenant's machine and need neither a store nor an HSM;
the other commands run at the provider, against the HSM named by ``TENANTRY_HSM_*``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.errors import ConflictError, InputError
from tenantry.keys import (
    HostTrust,
    HsmSettings,
    OaepHash,
    WrappedKey,
    WrappingKey,
    generate_tenant_key,
    read_tenant_key,
    signing_key_pem,
    wrap_tenant_key,
)
from tenantry.service import TenantKeys

__all__ = ["keys_app", "open_tenant_keys", "read_input", "write_output"]

keys_app = typer.Typer(
    name="keys",
    help="Tenant-held keys: generate and wrap on the tenant's machine; import, rotate, revoke.",
    no_args_is_help=True,
)
app.add_typer(keys_app)

Tenant = Annotated[str, typer.Argument(help="Tenant name.")]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")]


def open_tenant_keys(host_trust: HostTrust | None = None) -> TenantKeys:
    """The key service over the store and the HSM configured by ``TENANTRY_HSM_*``."""
    # Imported here so that the tenant-side commands run where no PKCS#11 library exists.
    from tenantry.keys.pkcs11 import Pkcs11Vault  # noqa: PLC0415

    settings = HsmSettings()
    vault = Pkcs11Vault(settings.module_path(), settings.token, settings.user_pin())
    return TenantKeys(state.service(), vault, host_trust=host_trust)


def read_input(path: Path, what: str) -> bytes:
    """A file's bytes, or InputError naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what} {path}: {exc.strerror}") from exc


def write_output(out: Path | None, text: str, *, secret: bool = False) -> None:
    """Print ``text``, or write it to ``out`` (mode 0600 for secrets; never overwrites those)."""
    if out is None:
        state.out.print(text, end="", markup=False)
        return
    if secret:
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise ConflictError(f"{out} exists; a key file is never overwritten") from exc
        with os.fdopen(fd, "w") as file:
            file.write(text)
    else:
        out.write_text(text)
    state.err.print(f"wrote {out}", markup=False)


@keys_app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Key file to create (mode 0600).")],
) -> None:
    """Tenant side: create a new AES-256 tenant key (64 hex digits) in a new file."""
    write_output(out, generate_tenant_key().hex() + "\n", secret=True)


@keys_app.command()
def wrap(
    wrapping_key: Annotated[
        Path, typer.Option("--wrapping-key", "-w", help="The HSM's wrapping key (PEM).")
    ],
    key: Annotated[Path, typer.Option("--key", "-k", help="Your tenant key file.")],
    out: Out = None,
    oaep_hash: Annotated[
        OaepHash | None,
        typer.Option("--oaep-hash", help="Override the OAEP hash the wrapping key announces."),
    ] = None,
) -> None:
    """Tenant side, no server needed: wrap your key to the HSM; upload only the result."""
    public = WrappingKey.from_pem(
        read_input(wrapping_key, "wrapping key"), source=str(wrapping_key)
    )
    tenant_key = read_tenant_key(read_input(key, "tenant key"), source=str(key))
    wrapped = wrap_tenant_key(public, tenant_key, oaep_hash=oaep_hash)
    state.err.print(
        f"wrapped to {public.fingerprint} (compare it with the provider's, out of band)",
        markup=False,
    )
    write_output(out, wrapped.to_pem())


@keys_app.command("wrapping-key")
def wrapping_key_command(out: Out = None) -> None:
    """Provider side: print the HSM's public wrapping key for tenants (created on first use)."""
    with open_tenant_keys() as keys:
        public = keys.wrapping_key()
    write_output(out, public.to_pem())


@keys_app.command("import")
def import_command(
    tenant: Tenant,
    wrapped: Annotated[Path, typer.Argument(help="The wrapped key from `tenantry keys wrap`.")],
) -> None:
    """Import a tenant's wrapped key into the HSM as its key-encryption key."""
    blob = WrappedKey.from_pem(read_input(wrapped, "wrapped key"), source=str(wrapped))
    with open_tenant_keys() as keys:
        record = keys.import_key(state.actor(), tenant, blob)
    state.out.print(f"imported key v{record.version} for tenant {tenant}", markup=False)


@keys_app.command()
def rotate(
    tenant: Tenant,
    wrapped: Annotated[Path, typer.Argument(help="The new wrapped key.")],
) -> None:
    """Replace a tenant's key: every data key is re-wrapped, no data is re-encrypted."""
    blob = WrappedKey.from_pem(read_input(wrapped, "wrapped key"), source=str(wrapped))
    with open_tenant_keys() as keys:
        record = keys.rotate_key(state.actor(), tenant, blob)
    state.out.print(f"rotated tenant {tenant} to key v{record.version}", markup=False)


@keys_app.command()
def revoke(
    tenant: Tenant,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the tenant's disks become unreadable forever.")
    ] = False,
) -> None:
    """Crypto-shred: destroy the tenant's keys in the HSM; its disks can never be read again."""
    if not yes:
        raise InputError(
            f"revoking destroys every key of tenant {tenant} and makes its disks unreadable",
            hint="Add --yes if that is what the tenant wants.",
        )
    with open_tenant_keys() as keys:
        shredded = keys.revoke_keys(state.actor(), tenant)
    state.out.print(f"revoked tenant {tenant}: {shredded} disk key(s) shredded", markup=False)


@keys_app.command()
def status(tenant: Tenant) -> None:
    """Show a tenant's key versions and disk keys (states only, never key material)."""
    with open_tenant_keys() as keys:
        info = keys.status(state.actor(), tenant)
    table = Table(title=f"keys of tenant {tenant}")
    for column in ("kind", "name", "version", "state", "changed"):
        table.add_column(column)
    for kek in info.keks:
        table.add_row("kek", "", f"v{kek.version}", str(kek.state), kek.changed_at.isoformat())
    for disk in info.disks:
        table.add_row(
            "disk",
            f"{disk.guest}/{disk.disk} ({disk.disk_id})",
            f"v{disk.kek_version}",
            str(disk.state),
            disk.changed_at.isoformat(),
        )
    state.out.print(table)


@keys_app.command("signing-key")
def signing_key_command(tenant: Tenant, out: Out = None) -> None:
    """Print the tenant's public disk-signing key (PEM), for `tenantry disk verify`."""
    with open_tenant_keys() as keys:
        public = keys.signing_key(state.actor(), tenant)
    write_output(out, signing_key_pem(public))
