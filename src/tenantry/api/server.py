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
from tenantry.api.enforcement import ServedEnforcement
from tenantry.api.tls import check_pair, ensure_self_signed
from tenantry.audit import Outcome
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.errors import InputError
from tenantry.governance import Actor, GovernanceRules, ThrottleRule
from tenantry.keys import HsmSettings
from tenantry.service import GuestDiskReader, Service, open_disk_reader
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
    disks = _disk_reader(service, settings, operator)
    # What `tenantry apply` enforces, the server enforces: an apply through the API is
    # compiled and applied to the reference backend, and the response says so.
    enforcement = ServedEnforcement(ReferenceBackend())
    service.add_hook(enforcement)
    config = uvicorn.Config(
        create_app(service, limits_from(settings), disks=disks, enforcement=enforcement),
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
        if disks is not None:
            disks.close()
        service.close()


def _disk_reader(service: Service, settings: Settings, operator: Actor) -> GuestDiskReader | None:
    """The disk reader when an HSM is configured (``TENANTRY_HSM_MODULE``), else None."""
    hsm = HsmSettings()
    if hsm.module is None:
        return None
    hosts = tuple(h.strip() for h in settings.unsafe_trust_hosts.split(",") if h.strip())
    reader = open_disk_reader(service, hsm, settings.datastores_path(), unsafe_trusted_hosts=hosts)
    if hosts:
        log.warning("disk keys may be released to this server for hosts %s", ", ".join(hosts))
        service.record(
            operator,
            "serve.unsafe-trust-hosts",
            Outcome.APPLIED,
            targets=[f"host {host}" for host in hosts],
            reason="hosts trusted without attestation for API disk reads",
            details={"recipient": reader.recipient_fingerprint},
        )
    return reader
