"""Row 35: failed-login lockout, exactly as the protection profile's test, from two addresses."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.people import PASSWORD
from tests.helpers.server import RunningServer, running_server

N = 3
T = 3.0


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server locking an account after 3 failures for 3 s."""
    env = {
        "TENANTRY_LOGIN_MAX_FAILURES": str(N),
        "TENANTRY_LOGIN_LOCKOUT_SECONDS": str(int(T)),
    }
    with running_server(tmp_path_factory.mktemp("lockout"), env=env) as running:
        yield running


def _from(server: RunningServer, address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x address is loopback)."""
    transport = httpx.HTTPTransport(local_address=address, verify=server.ssl_context())
    return httpx.Client(base_url=server.url, transport=transport, timeout=30)


def _login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    return client.post("/v1/auth/login", json={"username": name, "password": password})


def test_n_minus_one_failures_then_the_right_password_logs_in(strict: RunningServer) -> None:
    """(n-1) bad then good: success."""
    with _from(strict, "127.0.0.1") as client:
        for _ in range(N - 1):
            assert _login(client, "padmin2", "wrong password!").status_code == 401
        assert _login(client, "padmin2", PASSWORD).status_code == 200


def test_n_failures_lock_the_account_from_every_address_until_t(strict: RunningServer) -> None:
    """n bad then good: refused (429) from this and another address until T, then success;
    another administrator is never locked out meanwhile; the lockout is audited with its IP."""
    with _from(strict, "127.0.0.2") as first, _from(strict, "127.0.0.3") as second:
        for _ in range(N):
            assert _login(first, "padmin", "wrong password!").status_code == 401
        locked_at = time.monotonic()
        for client in (first, second):
            refused = _login(client, "padmin", PASSWORD)
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["retry-after"]) >= 1
        assert _login(second, "auditor", PASSWORD).status_code == 200
        time.sleep(max(0.0, T - 0.8 - (time.monotonic() - locked_at)))
        assert _login(second, "padmin", PASSWORD).status_code == 429
        time.sleep(max(0.0, T + 0.3 - (time.monotonic() - locked_at)))
        assert _login(second, "padmin", PASSWORD).status_code == 200
    with strict.as_user("auditor") as auditor:
        records = [
            i["record"] for i in auditor.get("/v1/audit", params={"limit": 1000}).json()["items"]
        ]
    lockouts = [r for r in records if r["action"] == "login.lockout" and r["actor"] == "padmin"]
    assert lockouts and lockouts[-1]["source"] == "127.0.0.2"
    failures = [r for r in records if r["action"] == "login" and r["actor"] == "padmin"]
    assert {r["source"] for r in failures} >= {"127.0.0.2", "127.0.0.3"}


def test_administrator_unlocks_before_t(strict: RunningServer) -> None:
    """Unlocking lets the user in at once; the unlock is audited with the admin's address."""
    with _from(strict, "127.0.0.4") as client:
        for _ in range(N):
            _login(client, "pop", "wrong password!")
        assert _login(client, "pop", PASSWORD).status_code == 429
    with _from(strict, "127.0.0.5") as admin_link:
        token = _login(admin_link, "padmin2", PASSWORD).json()["token"]
        unlocked = admin_link.post(
            "/v1/users/provider/pop/unlock", headers={"Authorization": f"Bearer {token}"}
        )
        assert unlocked.status_code == 204
    with _from(strict, "127.0.0.4") as client:
        assert _login(client, "pop", PASSWORD).status_code == 200
    with strict.as_user("auditor") as auditor:
        records = [
            i["record"] for i in auditor.get("/v1/audit", params={"limit": 1000}).json()["items"]
        ]
    assert any(r["action"] == "user.unlock" and r["source"] == "127.0.0.5" for r in records)


def test_unknown_and_known_users_fail_alike(strict: RunningServer) -> None:
    """A wrong password and a user that does not exist get the same answer."""
    with _from(strict, "127.0.0.6") as client:
        wrong = _login(client, "auditor", "wrong password!")
        missing = _login(client, "nobody-here", "wrong password!")
    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["detail"] == missing.json()["detail"]
