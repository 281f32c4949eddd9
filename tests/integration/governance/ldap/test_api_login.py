"""An LDAP user logs in to the real HTTPS server and acts within its group's role."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from tenantry.governance import Actor, DirectoryConfig
from tests.helpers.server import running_server
from tests.helpers.slapd import BASE, throwaway_slapd


def test_directory_user_logs_in_over_https_and_gets_its_groups_role(tmp_path: Path) -> None:
    """dana (group operators) gets read-only on the provider's root; a bad password gets 401."""
    with throwaway_slapd(tmp_path / "slapd") as directory:
        dana = directory.add_user("dana", "dana directory password")
        directory.add_group("operators", [dana])
        with running_server(tmp_path / "api") as server:
            with closing(server.service()) as service:
                operator = Actor.local_operator()
                service.accounts.set_directory(
                    operator,
                    None,
                    DirectoryConfig(
                        directory.url, f"uid={{username}},ou=people,{BASE}", f"ou=groups,{BASE}"
                    ),
                )
                service.access.grant(operator, None, "group:operators", "read-only", "/")
            with server.client() as client:
                refused = client.post(
                    "/v1/auth/login", json={"username": "dana", "password": "wrong password"}
                )
                assert refused.status_code == 401
            token = server.login("dana", password="dana directory password")
            with server.client(token) as client:
                assert client.get("/v1/auth/whoami").json()["roles"] == ["read-only"]
                assert client.get("/v1/host/h1").status_code == 200
                assert client.get("/v1/users").status_code == 403
