"""``tenantry serve``: the API over TLS (a generated certificate unless the operator gives one),
on the address the operator chooses (loopback by default), with uvicorn."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from tenantry.api.app import ApiLimits, create_app
from tenantry.api.tls import check_pair, ensure_self_signed
from tenantry.audit import Outcome
from tenantry.errors import InputError
from tenantry.governance import Actor, GovernanceRules, ThrottleRule
from tenantry.service import Service
from tenantry.settings import Settings

__all__ = ["ServeOptions", "limits_from", "rules_from", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and with which TLS identity."""

    store: str
    host: str
    port: int
    home: Path
    cert: Path | None = None
    key: Path | None = None
    insecure_no_tls: bool = False


def rules_from(settings: Settings) -> GovernanceRules:
    """Governance numbers from ``TENANTRY_*`` settings."""
    lockout = timedelta(seconds=settings.login_lockout_seconds)
    return GovernanceRules(
        session_idle=timedelta(seconds=settings.session_idle_seconds),
        session_absolute=timedelta(seconds=settings.session_absolute_seconds),
        account_throttle=ThrottleRule(settings.login_max_failures, lockout),
        address_throttle=ThrottleRule(settings.address_max_failures, lockout),
        approval_ttl=timedelta(seconds=settings.approval_ttl_seconds),
        tenant_object_quota=settings.tenant_object_quota,
        directory_hosts=tuple(
            entry.strip() for entry in settings.directory_hosts.split(",") if entry.strip()
        ),
    )


def limits_from(settings: Settings) -> ApiLimits:
    """Request limits from ``TENANTRY_*`` settings."""
    return ApiLimits(
        tenant_rate=settings.tenant_requests_per_second,
        tenant_burst=settings.tenant_request_burst,
        login_rate=settings.login_requests_per_second,
        max_request_bytes=settings.max_request_bytes,
    )


def serve(options: ServeOptions, settings: Settings | None = None) -> None:
    """Run the API until interrupted."""
    settings = settings or Settings()
    if (options.cert is None) != (options.key is None):
        raise InputError("give both --cert and --key, or neither (a certificate is generated)")
    service = Service.open(options.store, rules=rules_from(settings))
    operator = Actor.local_operator()
    tls: dict[str, str] = {}
    if options.insecure_no_tls:
        log.warning(
            "serving plain HTTP on %s:%d: credentials cross the network in clear text",
            options.host,
            options.port,
        )
        service.record(
            operator,
            "serve.insecure-no-tls",
            Outcome.APPLIED,
            targets=[f"listen {options.host}:{options.port}"],
            reason="plain HTTP requested with --insecure-no-tls",
        )
    else:
        if options.cert is not None and options.key is not None:
            cert, key = options.cert, options.key
        else:
            cert, key = ensure_self_signed(options.home, [options.host])
        check_pair(cert, key)
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    config = uvicorn.Config(
        create_app(service, limits_from(settings)),
        host=options.host,
        port=options.port,
        proxy_headers=False,  # the peer address is the audited origin; never a header's claim
        server_header=False,
        log_level="warning",
        access_log=False,
        **tls,  # type: ignore[arg-type]
    )
    config.load()
    if config.ssl is not None:
        config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        uvicorn.Server(config).run()
    finally:
        service.close()
