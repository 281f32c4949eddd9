"""The root command: global options, and the one place errors become exit codes."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from tenantry import __version__
from tenantry.cli.context import state
from tenantry.errors import INTERNAL_ERROR_EXIT, TenantryError

__all__ = ["app", "main"]


def report(exc: TenantryError) -> None:
    """One red line (or a list) saying what is wrong, then what to do."""
    state.err.print(f"[bold red]error[/] [dim]({exc.code})[/]: {escape(str(exc))}", markup=True)
    hint = exc.diagnostics()
    if hint:
        state.err.print(f"[yellow]hint[/]: {escape(hint)}", markup=True)


class _Group(TyperGroup):
    """Maps TenantryError to its exit code for every subcommand."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context type is private
        try:
            return super().invoke(ctx)
        except TenantryError as exc:
            if state.verbose:
                state.err.print(traceback.format_exc(), markup=False)
            report(exc)
            raise typer.Exit(exc.exit_code) from exc
        finally:
            state.close()


app = typer.Typer(
    cls=_Group,
    name="tenantry",
    help="Secure multi-tenancy: declare the estate, enforce isolation, prove it, audit it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tenantry {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="TENANTRY_STORE",
            help="Store URL (sqlite:///path or postgresql+psycopg://...). "
            "Default: a SQLite file under $XDG_DATA_HOME/tenantry.",
            show_envvar=True,
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options."""
    del version
    state.store = store
    state.verbose = verbose


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit:
        raise
    except Exception:  # noqa: BLE001 - the last line of defence: a bug, reported as one
        state.err.print(traceback.format_exc(), markup=False)
        state.err.print(
            "[bold red]internal error[/]: this is a bug in tenantry; please report it with the "
            "traceback above.",
            markup=True,
        )
        sys.exit(INTERNAL_ERROR_EXIT)
