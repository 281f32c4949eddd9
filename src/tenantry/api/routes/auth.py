"""``/v1/auth``: log in (password, then one-time code), log out, who am I, second factor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from tenantry.api.deps import ActorDep, ServiceDep, SourceDep
from tenantry.api.schemas import (
    IssuedOut,
    LoginIn,
    MfaConfirmIn,
    MfaOut,
    OwnPasswordIn,
    WhoAmI,
)
from tenantry.errors import InputError
from tenantry.governance import domain_name

__all__ = ["router"]

router = APIRouter(tags=["auth"])


@router.post("/v1/auth/login", response_model=IssuedOut, operation_id="login", summary="Log in")
def login(body: LoginIn, request: Request, service: ServiceDep, source: SourceDep) -> Any:
    """Open a session; throttled per account and per source address."""
    request.app.state.login_limiter.take(source, f"address {source}")
    issued = service.sessions.login(
        body.tenant, body.username, body.password, code=body.code, source=source
    )
    return {"token": issued.secret, "credential": issued.credential.to_json()}


@router.post("/v1/auth/logout", status_code=204, operation_id="logout", summary="Log out")
def logout(service: ServiceDep, actor: ActorDep) -> Response:
    """End the session (or token) this request carries."""
    if actor.session_id is None:  # pragma: no cover - every API actor has a credential
        raise InputError("no session to end")
    service.sessions.end(actor, actor.session_id)
    return Response(status_code=204)


@router.get("/v1/auth/whoami", response_model=WhoAmI, operation_id="whoami", summary="Who am I")
def whoami(actor: ActorDep) -> Any:
    """The authenticated user, its roles, and what it holds on its domain's root."""
    held = actor.effective_authority().privileges_at(actor.domain_root)
    return {
        "name": actor.name,
        "domain": domain_name(actor.tenant),
        "roles": sorted(actor.roles),
        "session": actor.session_id,
        "privileges": sorted(map(str, held)),
    }


@router.post("/v1/auth/mfa", response_model=MfaOut, operation_id="mfa_enroll", summary="Enrol TOTP")
def mfa_enroll(service: ServiceDep, actor: ActorDep) -> Any:
    """Start enrolling one's second factor; the secret is shown once."""
    secret, uri = service.accounts.begin_mfa(actor)
    return {"secret": secret, "uri": uri}


@router.post(
    "/v1/auth/mfa/confirm", status_code=204, operation_id="mfa_confirm", summary="Confirm TOTP"
)
def mfa_confirm(body: MfaConfirmIn, service: ServiceDep, actor: ActorDep) -> Response:
    """Finish enrolling with a code from the authenticator."""
    service.accounts.confirm_mfa(actor, body.code)
    return Response(status_code=204)


@router.put(
    "/v1/auth/password", status_code=204, operation_id="own_password", summary="Change password"
)
def own_password(body: OwnPasswordIn, service: ServiceDep, actor: ActorDep) -> Response:
    """Change one's own password (the current one is required)."""
    service.accounts.set_password(
        actor,
        actor.tenant,
        actor.name,
        body.new_password,
        current_password=body.current_password,
    )
    return Response(status_code=204)
