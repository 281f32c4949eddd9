"""The command line: thin commands over the service layer (one module per command group)."""

from tenantry.cli import (  # noqa: F401 - registers the commands
    accounts,
    approvals,
    audit,
    credentials,
    disk,
    keys,
    objects,
    serve,
    spec,
    trace,
    verify,
)
from tenantry.cli.main import app, main
from tenantry.cli.unavailable import register_unavailable as _register_unavailable

try:
    from tenantry.cli import lab, reconcile  # noqa: F401 - registers lab, attack, drift, reconcile
except ModuleNotFoundError as missing:  # the lab's extras are not installed
    _register_unavailable(
        {
            "lab": "Run the estate on real OVS/OVN with guests in namespaces (root).",
            "attack": "Attack the lab from inside its guests (root).",
            "drift": "Compare the Northbound database with the estate.",
            "reconcile": "Repair what differs between the Northbound database and the estate.",
        },
        missing=missing.name or "pyroute2",
        extra="lab,ovn",
    )

__all__ = ["app", "main"]
