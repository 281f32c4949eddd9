"""``serve``: run the REST API (TLS by default, loopback by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tenantry.api import ServeOptions
from tenantry.api import serve as run_server
from tenantry.cli.context import state
from tenantry.cli.main import app
from tenantry.settings import Settings


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8443).")] = None,
    cert: Annotated[
        Path | None,
        typer.Option(help="PEM certificate to serve instead of the generated one."),
    ] = None,
    key: Annotated[Path | None, typer.Option(help="PEM private key of --cert.")] = None,
    insecure_no_tls: Annotated[
        bool,
        typer.Option(
            "--insecure-no-tls",
            help="Serve plain HTTP: passwords and tokens cross the network readable. "
            "Logged and audited.",
        ),
    ] = False,
) -> None:
    """Serve the REST API and its OpenAPI document over HTTPS."""
    settings = Settings()
    options = ServeOptions(
        store=state.store_url(),
        host=host or settings.api_host,
        port=port or settings.api_port,
        home=settings.home,
        cert=cert or settings.tls_cert,
        key=key or settings.tls_key,
        insecure_no_tls=insecure_no_tls,
    )
    scheme = "http" if insecure_no_tls else "https"
    state.err.print(f"serving on {scheme}://{options.host}:{options.port}", markup=False)
    run_server(options, settings)
