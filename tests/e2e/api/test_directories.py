"""A tenant administrator points its directory only at hosts the provider allows."""

from __future__ import annotations

from tests.helpers.server import RunningServer


def _directory(url: str) -> dict[str, str]:
    return {"url": url, "user_dn_template": "uid={username},dc=x", "group_base": "dc=x"}


def test_tenant_directory_host_outside_the_allow_list_is_a_clear_403(
    server: RunningServer,
) -> None:
    """403 auth.directory_host naming the host; the directory stays unset."""
    with server.as_user("tadmin", "acme") as tenant:
        refused = tenant.put("/v1/directories/acme", json=_directory("ldap://evil.example:389"))
        assert refused.status_code == 403, refused.text
        problem = refused.json()
        assert problem["code"] == "auth.directory_host"
        assert "evil.example:389" in problem["detail"]
        assert tenant.get("/v1/directories/acme").status_code == 404


def test_tenant_directory_host_on_the_allow_list_is_accepted(server: RunningServer) -> None:
    """The positive control: the provider lists 127.0.0.1, so acme may use it."""
    with server.as_user("tadmin", "acme") as tenant:
        accepted = tenant.put("/v1/directories/acme", json=_directory("ldap://127.0.0.1:3890"))
        assert accepted.status_code == 200, accepted.text
        assert tenant.delete("/v1/directories/acme").status_code == 204
