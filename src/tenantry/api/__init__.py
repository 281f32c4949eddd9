"""The REST API (FastAPI): every route goes through the service layer, so nothing bypasses
authorization, admission or audit; errors are RFC 9457 problem documents; TLS by default."""

from tenantry.api.app import ApiLimits, create_app
from tenantry.api.server import ServeOptions, limits_from, rules_from, serve
from tenantry.api.tls import ensure_self_signed, self_signed_paths

__all__ = [
    "ApiLimits",
    "ServeOptions",
    "create_app",
    "ensure_self_signed",
    "limits_from",
    "rules_from",
    "self_signed_paths",
    "serve",
]
