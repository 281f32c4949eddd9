"""One lab for the module: two chassis, the two-tenants estate as namespaced guests."""

from __future__ import annotations

import os
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


def free_prefix(base: str) -> str:
    """A name prefix no namespace on this machine uses yet: ``base`` plus two digits from the
    pid, so labs of test runs working at the same time (other worktrees) do not collide."""
    taken = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    start = os.getpid() % 100
    for step in range(100):
        candidate = f"{base}{(start + step) % 100:02d}"
        if not any(name.startswith(f"{candidate}-") for name in taken):
            return candidate
    return base


@pytest.fixture(scope="session")
def lab() -> Iterator[RunningLab]:
    """OVS/OVN on two chassis enforcing two-tenants, its guests up (torn down afterwards)."""
    with tempfile.TemporaryDirectory(prefix="tlab", dir="/tmp") as directory:
        env = LabEnvironment(Path(directory), prefix=free_prefix("tt"))
        try:
            programs = env.up(example_estate("two-tenants"))
            yield RunningLab(env, programs)
        finally:
            env.down()
