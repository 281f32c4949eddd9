"""``approvals`` and ``grants``: the two-person rule and tenants' data-access grants."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.cli.render import render_rows
from tenantry.errors import ApprovalRequiredError

approvals_app = typer.Typer(help="Two-person requests.", no_args_is_help=True)
grants_app = typer.Typer(help="Data-access grants (tenant side).", no_args_is_help=True)
app.add_typer(approvals_app, name="approvals")
app.add_typer(grants_app, name="grants")


@approvals_app.command("list")
def list_approvals() -> None:
    """Requests you may see."""
    rows = state.gateway().approvals()
    render_rows(state.out, rows, ["id", "status", "summary", "requester", "expires_at"])


@approvals_app.command("approve")
def approve(approval_id: Annotated[str, typer.Argument(help="Request id.")]) -> None:
    """Approve a colleague's request (never your own); it then runs."""
    done = state.gateway().approve(approval_id)
    state.out.print(f"{approval_id}: {done['status']} - {done['result']}", markup=False)


@approvals_app.command("reject")
def reject(approval_id: Annotated[str, typer.Argument(help="Request id.")]) -> None:
    """Reject a request, or withdraw your own."""
    done = state.gateway().reject(approval_id)
    state.out.print(f"{approval_id}: {done['status']}", markup=False)


@grants_app.command("list")
def list_grants() -> None:
    """Grants you may see."""
    rows = state.gateway().grants()
    render_rows(state.out, rows, ["id", "status", "grantee", "object", "privilege", "expires_at"])


@grants_app.command("create")
def create_grant(
    grantee: Annotated[str, typer.Option(help="The provider operator's user name.")],
    guest: Annotated[str, typer.Option(help="TENANT/GUEST.")],
    privilege: Annotated[str, typer.Option(help="A tenant-data privilege, e.g. disk.read.")],
    expires_in: Annotated[int, typer.Option(help="Seconds of access once approved.")] = 3600,
) -> None:
    """Grant an operator time-bounded access to one guest (a provider approver confirms)."""
    try:
        state.gateway().create_grant(grantee, guest, privilege, expires_in)
    except ApprovalRequiredError as exc:
        state.out.print(f"grant requested; waiting for approval {exc.approval_id}", markup=False)
        return


@grants_app.command("revoke")
def revoke_grant(grant_id: Annotated[str, typer.Argument(help="Grant id.")]) -> None:
    """End a grant now."""
    state.gateway().revoke_grant(grant_id)
    state.out.print(f"revoked {grant_id}", markup=False)
