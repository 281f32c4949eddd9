"""Stand-ins for command groups whose optional dependencies are not installed.

The core install (``pip install tenantry``) runs the declarative workflow, the reference data
plane, verification, audit and the API; the lab needs ``tenantry[lab,ovn]``. Rather than fail
to start, the CLI keeps the commands and says what to install when one is used.
"""

from __future__ import annotations

from typing import Any

import typer

from tenantry.cli.main import app
from tenantry.errors import BackendUnavailableError

__all__ = ["register_unavailable"]


def register_unavailable(groups: dict[str, str], *, missing: str, extra: str) -> None:
    """Register each group (name -> help) as a command that explains what is missing."""
    for name, help_text in groups.items():

        def refuse(ctx: typer.Context, _name: str = name) -> Any:
            del ctx
            raise BackendUnavailableError(
                f"`tenantry {_name}` needs the Python package {missing!r}, which is not installed",
                hint=f"pip install 'tenantry[{extra}]' (and run as root for the lab).",
            )

        app.command(
            name,
            help=f"{help_text} [needs tenantry[{extra}]]",
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(refuse)
