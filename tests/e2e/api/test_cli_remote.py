"""The CLI in remote mode (--server) against the real HTTPS server: log in, read, apply, and a
two-person operation finished by a second person's CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tenantry.cli import app
from tests.helpers.people import PASSWORD
from tests.helpers.server import RunningServer


@pytest.fixture
def cli(server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `tenantry --server URL --cacert CERT ...` with credentials kept under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "client"))
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Any:
        return runner.invoke(
            app, ["--server", server.url, "--cacert", str(server.cert), *args], input=stdin
        )

    return invoke


def test_login_then_get_lists_only_the_tenants_objects(cli: Any) -> None:
    """A tenant admin logs in once; later commands use the saved session."""
    logged = cli("login", "tadmin", "--tenant", "acme", "--password-stdin", stdin=PASSWORD + "\n")
    assert logged.exit_code == 0, logged.output
    listed = cli("get", "guest", "-o", "json")
    assert listed.exit_code == 0, listed.output
    assert '"acme/web"' in listed.output and "globex" not in listed.output
    missing = cli("get", "guest", "globex/web")
    assert missing.exit_code == 4, missing.output


def test_commands_without_login_are_refused(cli: Any) -> None:
    """No saved session: exit 6 (auth.required), nothing is sent anonymously."""
    result = cli("get", "guest")
    assert result.exit_code == 6, result.output


def test_tenant_applies_its_own_part_of_the_estate(
    cli: Any, server: RunningServer, tmp_path: Path
) -> None:
    """A partial spec (one tenant's policy) applies remotely; a second apply changes nothing."""
    assert (
        cli(
            "login", "tadmin", "--tenant", "acme", "--password-stdin", stdin=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    exported = cli("export")
    assert exported.exit_code == 0, exported.output
    spec = tmp_path / "acme.yaml"
    text = exported.output.replace(
        "              - 443\n", "              - 443\n              - 8443\n"
    )
    assert text != exported.output
    spec.write_text(text)
    first = cli("apply", str(spec))
    assert first.exit_code == 0 and "Applied" in first.output, first.output
    assert "Enforced on the reference backend" in first.output, first.output
    again = cli("apply", str(spec))
    assert again.exit_code == 0 and "No changes" in again.output, again.output


def test_wrong_password_exits_with_the_auth_code(cli: Any) -> None:
    """A refused login is exit 6 with the problem's message."""
    result = cli("login", "tadmin", "--tenant", "acme", "--password-stdin", stdin="nope\n")
    assert result.exit_code == 6
    assert "wrong user name, password or one-time code" in result.output


def test_two_person_operation_through_two_clis(
    cli: Any, server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """padmin's MFA removal waits (exit 7); padmin cannot approve it; padmin2's CLI does."""
    assert cli("login", "padmin", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    waiting = cli("users", "mfa-disable", "provider/target-p")
    assert waiting.exit_code == 7, waiting.output
    approval = waiting.output.split("waiting for approval ", 1)[1].split()[0]
    own = cli("approvals", "approve", approval)
    assert own.exit_code == 6, own.output
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "second"))
    assert cli("login", "padmin2", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    done = cli("approvals", "approve", approval)
    assert done.exit_code == 0 and "approved" in done.output, done.output
