"""Markers by path, capability probes, and the CI rule: a real-component test never skips."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.helpers.capabilities import MARKER_PROBES, missing

ROOT = Path(__file__).parent
PATH_MARKERS = {
    "integration/dataplane/ovn": ("ovn", "root"),
    "integration/dataplane/lab": ("ovn", "root"),
    "integration/keys": ("hsm",),
    "integration/attestation": ("tpm",),
    "integration/governance/ldap": ("ldap",),
    "e2e": ("e2e",),
    "e2e/console": ("browser",),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-all",
        action="store_true",
        default=os.environ.get("CI", "").lower() == "true",
        help="fail, instead of skipping, tests whose real components are missing (default in CI)",
    )


def pytest_configure(config: pytest.Config) -> None:
    del config
    # Tests never touch the runner's real state directory, and every service they start (in
    # process or as a server subprocess) signs the audit log with one session key: a store
    # seeded in process and served by a subprocess must not see two log identities.
    state = Path(tempfile.mkdtemp(prefix="tenantry-tests-"))
    os.environ.setdefault("XDG_DATA_HOME", str(state / "data"))
    os.environ.setdefault("TENANTRY_AUDIT_KEY", str(state / "audit-signing-key.pem"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        rel = Path(str(item.fspath)).relative_to(ROOT).as_posix()
        for prefix, markers in PATH_MARKERS.items():
            if rel.startswith(prefix + "/"):
                for marker in markers:
                    item.add_marker(marker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    require_all = item.config.getoption("--require-all")
    for marker in MARKER_PROBES:
        if item.get_closest_marker(marker) is None:
            continue
        why = missing(marker)
        if why is None:
            continue
        if require_all:
            pytest.fail(f"[{marker}] required here (CI or --require-all) but {why}", pytrace=False)
        pytest.skip(f"[{marker}] {why}")


@pytest.fixture
def examples() -> Path:
    """The example specs shipped in examples/specs."""
    return ROOT.parent / "examples" / "specs"


@pytest.fixture(scope="session")
def postgres_server() -> object:
    """A PostgreSQL server for the session (URL of an empty database)."""
    from tests.helpers.postgres import throwaway_postgres

    why = missing("postgres")
    if why is not None:
        pytest.skip(f"[postgres] {why}")
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """A fresh, empty store: a SQLite file, and (marked postgres) a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tenantry.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def ovn_central() -> object:
    """OVN Northbound/Southbound databases and ovn-northd for the session (no chassis)."""
    from tests.helpers.ovn import running_central

    why = missing("ovn")
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"[ovn] required in CI but {why}", pytrace=False)
        pytest.skip(f"[ovn] {why}")
    with running_central() as deployment:
        yield deployment


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> object:
    """SoftHSM2 tokens for the whole session (tests/helpers/softhsm.py): one per process."""
    from tests.helpers.capabilities import softhsm_module
    from tests.helpers.softhsm import softhsm_tokens

    why = missing("hsm")
    if why is not None:
        pytest.skip(f"[hsm] {why}")
    module = softhsm_module()
    assert module is not None
    with softhsm_tokens(module, tmp_path_factory.mktemp("softhsm")) as tokens:
        yield tokens
