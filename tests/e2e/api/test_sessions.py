"""Row 36 (sessions): list and end sessions, logout, idle and absolute timeouts, disabling."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.helpers.server import RunningServer, running_server


def _session_id(server: RunningServer, token: str) -> str:
    with server.client(token) as client:
        return str(client.get("/v1/auth/whoami").json()["session"])


def test_terminated_session_is_refused_on_its_next_request(server: RunningServer) -> None:
    """A user ends its other session; that session's token gets 401, the first still works."""
    first, second = server.login("tmember", "acme"), server.login("tmember", "acme")
    with server.client(first) as client:
        listed = {s["id"]: s for s in client.get("/v1/sessions").json()}
        victim = _session_id(server, second)
        assert victim in listed
        row = listed[victim]
        assert row["user"] == "acme/tmember" and row["last_source"] == "127.0.0.1"
        assert row["created_at"] and row["last_used_at"]
        assert client.delete(f"/v1/sessions/{victim}").status_code == 204
        assert client.get("/v1/auth/whoami").status_code == 200
    with server.client(second) as client:
        assert client.get("/v1/auth/whoami").status_code == 401


def test_administrator_terminates_a_users_sessions(server: RunningServer) -> None:
    """With sessions.manage, the tenant's admin ends all of a member's sessions and tokens."""
    member = server.login("tmember", "acme")
    with server.client(member) as client:
        token = client.post("/v1/tokens", json={"name": "ci", "expires_in": 600}).json()["token"]
    with server.as_user("tadmin", "acme") as admin:
        listed = admin.get("/v1/users/acme/tmember/sessions").json()
        assert {row["kind"] for row in listed} == {"session", "token"}
        assert admin.delete("/v1/users/acme/tmember/sessions").status_code == 204
    for secret in (member, token):
        with server.client(secret) as client:
            assert client.get("/v1/auth/whoami").status_code == 401


def test_another_tenants_session_cannot_be_ended(server: RunningServer) -> None:
    """globex's admin cannot end an acme session: it does not exist for it."""
    victim = server.login("tmember", "acme")
    with server.as_user("gadmin", "globex") as other:
        assert other.delete(f"/v1/sessions/{_session_id(server, victim)}").status_code == 404
    with server.client(victim) as client:
        assert client.get("/v1/auth/whoami").status_code == 200


def test_logged_out_token_is_refused_and_both_ends_are_audited(server: RunningServer) -> None:
    """Logout, then reuse: 401; the tenant's audit shows the login and the logout."""
    token = server.login("tmember", "acme")
    with server.client(token) as client:
        session = client.get("/v1/auth/whoami").json()["session"]
        assert client.post("/v1/auth/logout").status_code == 204
        assert client.get("/v1/guest").status_code == 401
    with server.as_user("tadmin", "acme") as admin:
        records = [
            i["record"] for i in admin.get("/v1/audit", params={"limit": 1000}).json()["items"]
        ]
    assert any(r["action"] == "login" and f"session {session}" in r["targets"] for r in records)
    ended = [
        r for r in records if r["action"] == "session.end" and f"session {session}" in r["targets"]
    ]
    assert ended and ended[-1]["reason"] == "logout"


def test_disabling_a_user_ends_its_sessions_and_tokens_at_once(server: RunningServer) -> None:
    """Both the session and an API token are refused on their very next request."""
    with server.as_user("tadmin", "acme") as admin:
        created = admin.post(
            "/v1/users", json={"domain": "acme", "name": "leaver", "password": "x" * 16}
        )
        assert created.status_code == 201, created.text
        admin.post(
            "/v1/permissions",
            json={"domain": "acme", "principal": "user:leaver", "role": "read-only"},
        )
    session = server.login("leaver", "acme", password="x" * 16)
    with server.client(session) as client:
        token = client.post("/v1/tokens", json={"name": "t", "expires_in": 600}).json()["token"]
        assert client.get("/v1/guest").status_code == 200
    with server.as_user("tadmin", "acme") as admin:
        assert admin.post("/v1/users/acme/leaver/disable").status_code == 204
    for secret in (session, token):
        with server.client(secret) as client:
            assert client.get("/v1/guest").status_code == 401


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with a 2 s idle timeout and an 8 s absolute session lifetime."""
    env = {"TENANTRY_SESSION_IDLE_SECONDS": "2", "TENANTRY_SESSION_ABSOLUTE_SECONDS": "8"}
    with running_server(tmp_path_factory.mktemp("idle"), env=env) as running:
        yield running


def test_idle_session_is_refused_after_the_timeout(impatient: RunningServer) -> None:
    """Used within the idle window it lives; idle past it, the next call gets 401."""
    token = impatient.login("tadmin", "acme")
    with impatient.client(token) as client:
        for _ in range(3):
            time.sleep(1)
            assert client.get("/v1/auth/whoami").status_code == 200
        time.sleep(3)
        assert client.get("/v1/auth/whoami").status_code == 401
    with impatient.client(impatient.login("tadmin", "acme")) as admin:
        records = [
            i["record"] for i in admin.get("/v1/audit", params={"limit": 1000}).json()["items"]
        ]
    assert any(r["action"] == "session.end" and r["reason"] == "idle-timeout" for r in records)


def test_busy_session_still_ends_at_its_absolute_lifetime(impatient: RunningServer) -> None:
    """A session used every second dies at its absolute timeout all the same."""
    token = impatient.login("tadmin", "acme")
    started = time.monotonic()
    with impatient.client(token) as client:
        while time.monotonic() - started < 7:
            assert client.get("/v1/auth/whoami").status_code == 200
            time.sleep(1)
        time.sleep(max(0.0, 8.5 - (time.monotonic() - started)))
        assert client.get("/v1/auth/whoami").status_code == 401


def test_api_token_is_not_subject_to_the_idle_timeout(impatient: RunningServer) -> None:
    """The positive control: an API token idle for longer keeps working until it expires."""
    with impatient.client(impatient.login("tadmin", "acme")) as admin:
        token = admin.post("/v1/tokens", json={"name": "ci", "expires_in": 60}).json()["token"]
    time.sleep(3)
    with impatient.client(token) as client:
        assert client.get("/v1/auth/whoami").status_code == 200
