"""One real HTTPS server for the API scenarios of a session (tests that need other settings
start their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.server import RunningServer, running_server
from tests.helpers.softhsm import SoftHsm


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, softhsm: SoftHsm) -> Iterator[RunningServer]:
    """`tenantry serve` over TLS on a free loopback port, seeded with the cast, reading disks
    through a SoftHSM2 token (acme/web's disk root holds ACME_ROOT)."""
    with running_server(tmp_path_factory.mktemp("api"), hsm=softhsm) as running:
        yield running
