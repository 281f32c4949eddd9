"""A real `tenantry serve` in a subprocess: HTTPS on a free loopback port, a temporary SQLite
store seeded with the two-tenants estate and a cast of users, and clients that verify TLS
against the certificate the server generated."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tenantry.governance import Actor, GovernanceRules, UnsafeFastPasswordHashing
from tenantry.model import Estate
from tenantry.service import Service
from tests.helpers.people import PASSWORD
from tests.helpers.softhsm import INIT_TOKEN, SoftHsm
from tests.helpers.specs import estate_from

__all__ = ["CAST", "PASSWORD", "Person", "RunningServer", "free_port", "running_server"]

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY_HOSTS = ("127.0.0.1",)
"""Where the tests' throwaway directories listen: the only hosts tenants may use."""


@dataclass(frozen=True)
class Person:
    """A user of the cast: domain, name, and what it holds on its domain's root."""

    name: str
    tenant: str | None = None
    role: str | None = "administrator"
    privileges: tuple[str, ...] | None = None


CAST = (
    Person("padmin"),
    Person("padmin2"),
    Person(
        "pop",
        privileges=(
            "inventory.read",
            "infrastructure.write",
            "tenant.write",
            "network.write",
            "guest.write",
            "policy.write",
            "router.write",
            "resource-pool.write",
        ),
    ),
    Person("auditor", role="read-only"),
    Person("tadmin", tenant="acme"),
    Person("tmember", tenant="acme", privileges=("inventory.read", "guest.write", "guest.console")),
    Person("gadmin", tenant="globex"),
    Person("target-p", role=None),
    Person("target-a", tenant="acme", role=None),
    Person("grantee", role="read-only"),
)
"""provider admin (two of them), provider operator, auditor, tenant admin and member of
acme, globex's admin; users that others act on (targets), and an operator that tenants
grant data access to."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(store: str, people: Sequence[Person], estate: Estate | None = None) -> None:
    """An estate (default: two-tenants) and the people, written as the local operator."""
    service = Service.open(
        store, rules=GovernanceRules(password_hashing=UnsafeFastPasswordHashing())
    )
    operator = Actor.local_operator()
    try:
        service.apply(operator, estate if estate is not None else estate_from())
        for person in people:
            service.accounts.create_user(operator, person.tenant, person.name, password=PASSWORD)
            role = person.role
            if person.privileges is not None:
                role = f"r-{person.name}"
                service.access.create_role(operator, person.tenant, role, person.privileges)
            if role is not None:
                service.access.grant(operator, person.tenant, f"user:{person.name}", role, "/")
    finally:
        service.close()


@dataclass
class RunningServer:
    """A live server: where it is, its certificate, its store."""

    url: str
    cert: Path
    store: str
    home: Path
    process: subprocess.Popen[bytes]
    tls: bool = True
    _tokens: dict[tuple[str | None, str], str] = field(default_factory=dict)

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts exactly the server's generated certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client verifying the server's certificate, optionally with a bearer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        verify: Any = self.ssl_context() if self.tls else False
        return httpx.Client(base_url=self.url, verify=verify, headers=headers, timeout=30, **kwargs)

    def login(self, name: str, tenant: str | None = None, password: str = PASSWORD) -> str:
        """A fresh session token of ``name``."""
        with self.client() as client:
            response = client.post(
                "/v1/auth/login", json={"username": name, "tenant": tenant, "password": password}
            )
        response.raise_for_status()
        return str(response.json()["token"])

    def token(self, name: str, tenant: str | None = None) -> str:
        """A session token of ``name``, reused across tests of the session."""
        key = (tenant, name)
        if key not in self._tokens:
            self._tokens[key] = self.login(name, tenant)
        return self._tokens[key]

    def as_user(self, name: str, tenant: str | None = None) -> httpx.Client:
        """A client logged in as ``name`` with a fresh session (tests end sessions freely)."""
        return self.client(self.login(name, tenant))

    def actor(self, name: str, tenant: str | None = None) -> Actor:
        """The actor of a user, resolved now (to set up what the API then acts on)."""
        with closing(self.service()) as service:
            found = service.store.identities.user(tenant or "provider", name)
            assert found is not None, name
            return service.sessions.actor_for(found[0].id, source="test-setup")

    def service(self) -> Service:
        """A service over the same store (for set-up the API does not offer, and checks), with
        the server's directory allow-list (loopback)."""
        return Service.open(
            self.store,
            rules=GovernanceRules(
                password_hashing=UnsafeFastPasswordHashing(), directory_hosts=DIRECTORY_HOSTS
            ),
        )


def seed_hsm(store: str, hsm: SoftHsm, tmp: Path) -> dict[str, str]:
    """A token of its own for one server, acme's key on it and acme/web's disk written
    (tests/helpers/disk_seed.py); returns the server's environment for it."""
    label = f"api-{tmp.name}"[:32]
    environment = {**os.environ, **hsm.other(label).env(), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    subprocess.run(
        [*INIT_TOKEN, "--label", label, "--pin", hsm.pin, "--so-pin", hsm.so_pin],
        check=True,
        capture_output=True,
        env=environment,
    )
    datastores = tmp / "datastores"
    subprocess.run(
        [sys.executable, "-m", "tests.helpers.disk_seed", store, str(datastores)],
        check=True,
        capture_output=True,
        env=environment,
        cwd=ROOT,
    )
    return {
        **hsm.other(label).env(),
        "TENANTRY_DATASTORES": str(datastores),
        "TENANTRY_UNSAFE_TRUST_HOSTS": "h1,h2",
    }


@contextmanager
def running_server(
    tmp: Path,
    *,
    people: Sequence[Person] = CAST,
    env: dict[str, str] | None = None,
    tls: bool = True,
    estate: Estate | None = None,
    hsm: SoftHsm | None = None,
) -> Iterator[RunningServer]:
    """Seed a store under ``tmp``, start `tenantry serve` on it, stop it afterwards. With
    ``hsm``, the server reads disks through a token of its own (see ``seed_hsm``)."""
    home = tmp / "home"
    store = f"sqlite:///{tmp / 'tenantry.db'}"
    seed(store, people, estate)
    keys = seed_hsm(store, hsm, tmp) if hsm is not None else {}
    port = free_port()
    environment = {
        **os.environ,
        **keys,
        "XDG_DATA_HOME": str(home),
        "PYTHONPATH": str(ROOT / "src"),
        "TENANTRY_TENANT_REQUESTS_PER_SECOND": "1000",
        "TENANTRY_TENANT_REQUEST_BURST": "2000",
        "TENANTRY_LOGIN_REQUESTS_PER_SECOND": "1000",
        "TENANTRY_DIRECTORY_HOSTS": ",".join(DIRECTORY_HOSTS),
        **(env or {}),
    }
    args = [sys.executable, "-m", "tenantry", "--store", store, "serve", "--port", str(port)]
    if not tls:
        args.append("--insecure-no-tls")
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(args, env=environment, stdout=log, stderr=subprocess.STDOUT)
    scheme = "https" if tls else "http"
    server = RunningServer(
        f"{scheme}://127.0.0.1:{port}",
        home / "tenantry" / "tls" / "server.crt",
        store,
        home,
        process,
        tls,
    )
    try:
        _wait_until_up(server, tmp / "server.log")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(server: RunningServer, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        if not server.tls or server.cert.exists():
            try:
                with server.client() as client:
                    if client.get("/healthz").status_code == 200:
                        return
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not come up: {log.read_text()[-2000:]}")
