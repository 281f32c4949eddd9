"""The command line: thin commands over the service layer (one module per command group)."""

from tenantry.cli import (  # noqa: F401 - registers the commands
    accounts,
    approvals,
    audit,
    credentials,
    disk,
    keys,
    lab,
    objects,
    serve,
    spec,
    trace,
    verify,
)
from tenantry.cli.main import app, main

__all__ = ["app", "main"]
