"""``tokens`` and ``sessions``: bearer credentials, listed and ended."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.cli.render import render_rows

tokens_app = typer.Typer(help="Your API tokens.", no_args_is_help=True)
sessions_app = typer.Typer(
    help="Sessions: list, end one, end all of a user's.", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")
app.add_typer(sessions_app, name="sessions")

COLUMNS = ["id", "kind", "user", "name", "source", "created_at", "last_used_at", "expires_at"]


@tokens_app.command("list")
def list_tokens() -> None:
    """Your live API tokens."""
    render_rows(state.out, state.gateway().tokens(), COLUMNS)


@tokens_app.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    expires_in: Annotated[int, typer.Option(help="Seconds until it expires.")] = 86400,
    privilege: Annotated[
        list[str] | None, typer.Option(help="Cap to these privileges (repeatable).")
    ] = None,
) -> None:
    """Create an API token; its secret is printed once."""
    issued = state.gateway().create_token(name, expires_in, privilege)
    state.out.print(issued["token"], markup=False)
    state.err.print(
        f"token {issued['credential']['id']} expires {issued['credential']['expires_at']}"
    )


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[str, typer.Argument(help="Token id.")]) -> None:
    """Revoke a token."""
    state.gateway().revoke_token(token_id)
    state.out.print(f"revoked {token_id}", markup=False)


@sessions_app.command("list")
def list_sessions(
    everyone: Annotated[bool, typer.Option("--all", help="Every user's in the domain.")] = False,
    domain: Annotated[str | None, typer.Option(help="'provider' or a tenant.")] = None,
) -> None:
    """Live sessions: who, from where, since when, last use."""
    rows = state.gateway().sessions(everyone=everyone, domain=domain)
    render_rows(
        state.out, rows, ["id", "user", "source", "created_at", "last_used_at", "last_source"]
    )


@sessions_app.command("end")
def end_session(session_id: Annotated[str, typer.Argument(help="Session id.")]) -> None:
    """End one session now."""
    state.gateway().end_session(session_id)
    state.out.print(f"ended {session_id}", markup=False)


@sessions_app.command("end-all")
def end_all(user: Annotated[str, typer.Argument(help="DOMAIN/NAME.")]) -> None:
    """End every session and token of a user."""
    domain, _, name = user.rpartition("/")
    state.gateway().end_user_sessions(domain or "provider", name)
    state.out.print(f"ended every session of {user}", markup=False)
