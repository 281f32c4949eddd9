"""One real HTTPS server for the API scenarios of a session (tests that need other settings
start their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.server import RunningServer, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`tenantry serve` over TLS on a free loopback port, seeded with the cast."""
    with running_server(tmp_path_factory.mktemp("api")) as running:
        yield running
