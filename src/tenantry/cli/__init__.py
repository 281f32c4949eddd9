"""The command line: thin commands over the service layer (one module per command group)."""

from tenantry.cli import audit, objects, spec  # noqa: F401 - registers the commands
from tenantry.cli.main import app, main

__all__ = ["app", "main"]
