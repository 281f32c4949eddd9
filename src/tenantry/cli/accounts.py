"""``login``, ``logout`` and ``users``: identities (remote with --server, else the local store)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.cli.render import render_rows
from tenantry.errors import ApprovalRequiredError, InputError

users_app = typer.Typer(help="Users of a credential domain.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Domain = Annotated[
    str | None, typer.Option("--domain", help="'provider' or a tenant (default: your own).")
]


def _secret(prompt: str, stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    text: str = typer.prompt(prompt, hide_input=True)
    return text


def _split(user: str) -> tuple[str, str]:
    domain, sep, name = user.partition("/")
    if not sep:
        return "provider", domain
    return domain, name


@app.command()
def login(
    username: Annotated[str, typer.Argument(help="User name.")],
    tenant: Annotated[str | None, typer.Option(help="The user's tenant (omit: provider).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    code: Annotated[str | None, typer.Option(help="TOTP code, if enrolled.")] = None,
) -> None:
    """Log in to --server and remember the session for later commands."""
    if not state.is_remote or state.server is None:
        raise InputError("login needs --server URL (or TENANTRY_SERVER)")
    password = _secret("password", password_stdin)
    client = state.client(anonymous=True)
    issued = client.login(username, password, tenant=tenant, code=code)
    state.save_credentials(state.server, {"token": issued["token"], "cacert": state.cacert})
    expires = issued["credential"]["expires_at"]
    state.out.print(f"logged in to {state.server} (session ends by {expires})", markup=False)


@app.command()
def logout() -> None:
    """End the session on --server and forget it."""
    if not state.is_remote or state.server is None:
        raise InputError("logout needs --server URL (or TENANTRY_SERVER)")
    state.client().logout()
    state.save_credentials(state.server, None)
    state.out.print("logged out", markup=False)


@users_app.command("list")
def list_users(domain: Domain = None) -> None:
    """List the users of a domain."""
    rows = state.gateway().users(domain)
    render_rows(state.out, rows, ["domain", "name", "source", "disabled", "mfa_enabled", "groups"])


@users_app.command("create")
def create_user(
    user: Annotated[str, typer.Argument(help="DOMAIN/NAME, or NAME for a provider user.")],
    role: Annotated[
        str | None, typer.Option(help="Grant this role on the domain's root as well.")
    ] = None,
    ldap: Annotated[bool, typer.Option(help="Checked by the domain's directory.")] = False,
    group: Annotated[list[str] | None, typer.Option(help="Local group (repeatable).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Create a user (locally: the bootstrap of a domain's first administrator)."""
    domain, name = _split(user)
    password = None if ldap else _secret("password", password_stdin)
    gateway = state.gateway()
    gateway.create_user(
        domain, name, password=password, source="ldap" if ldap else "local", groups=group or ()
    )
    if role is not None:
        gateway.grant_role(domain, f"user:{name}", role, "/")
    state.out.print(f"created user {domain}/{name}", markup=False)


def _action(user: str, action: str) -> None:
    domain, name = _split(user)
    state.gateway().user_action(domain, name, action)
    state.out.print(f"{action}d {domain}/{name}", markup=False)


@users_app.command("disable")
def disable_user(user: Annotated[str, typer.Argument(help="DOMAIN/NAME.")]) -> None:
    """Disable a user: its sessions and tokens end at once."""
    _action(user, "disable")


@users_app.command("enable")
def enable_user(user: Annotated[str, typer.Argument(help="DOMAIN/NAME.")]) -> None:
    """Enable a disabled user."""
    _action(user, "enable")


@users_app.command("unlock")
def unlock_user(user: Annotated[str, typer.Argument(help="DOMAIN/NAME.")]) -> None:
    """Clear a failed-login lockout."""
    _action(user, "unlock")


@users_app.command("mfa-disable")
def disable_mfa(user: Annotated[str, typer.Argument(help="DOMAIN/NAME.")]) -> None:
    """Remove a user's second factor (provider side: waits for a second approver)."""
    domain, name = _split(user)
    try:
        state.gateway().disable_mfa(domain, name)
    except ApprovalRequiredError as exc:
        state.out.print(f"waiting for approval {exc.approval_id}", markup=False)
        raise
    state.out.print(f"second factor of {domain}/{name} removed", markup=False)


@users_app.command("grant")
def grant(
    principal: Annotated[str, typer.Argument(help="user:NAME or group:NAME.")],
    role: Annotated[str, typer.Argument(help="A system or custom role.")],
    scope: Annotated[str, typer.Option(help="'/', 'tenant/T', 'KIND/OWNER/NAME'.")] = "/",
    domain: Annotated[str, typer.Option(help="'provider' or a tenant.")] = "provider",
    no_propagate: Annotated[
        bool, typer.Option("--no-propagate", help="Only the node itself.")
    ] = False,
) -> None:
    """Give a user or group (e.g. an LDAP group) a role on a node of the inventory."""
    found = state.gateway().grant_role(domain, principal, role, scope, propagate=not no_propagate)
    state.out.print(
        f"permission {found['id']}: {principal} {role} on {found['scope']}", markup=False
    )
