"""Fixtures: the two-tenant example estate compiled and enforced by the reference backend."""

from __future__ import annotations

import pytest

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane.reference import ReferenceBackend
from tests.helpers.dataplane import Ports
from tests.helpers.estates import example_estate


class Clock:
    """A clock the tests move by hand (connection timeouts)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def programs() -> Programs:
    return compile_estate(example_estate())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reference(programs: Programs, clock: Clock) -> ReferenceBackend:
    """A fresh reference backend (empty connection table) enforcing the two-tenant estate."""
    return ReferenceBackend(programs, clock=clock)


@pytest.fixture
def ports(programs: Programs) -> Ports:
    return Ports(programs)
