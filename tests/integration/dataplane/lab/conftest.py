"""One lab for the module: two chassis, the two-tenants estate as namespaced guests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.compiler import Programs
from tenantry.dataplane.environment import LabEnvironment
from tests.helpers.estates import example_estate


class RunningLab:
    def __init__(self, env: LabEnvironment, programs: Programs) -> None:
        self.env = env
        self.programs = programs


@pytest.fixture(scope="session")
def lab() -> Iterator[RunningLab]:
    """OVS/OVN on two chassis enforcing two-tenants, its guests up (torn down afterwards)."""
    with tempfile.TemporaryDirectory(prefix="tlab", dir="/tmp") as directory:
        env = LabEnvironment(Path(directory), prefix="tt")
        try:
            programs = env.up(example_estate("two-tenants"))
            yield RunningLab(env, programs)
        finally:
            env.down()
