"""kill -9 during a stream of applies: the store holds one whole state, never a partial one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tenantry.service import Service
from tests.helpers.specs import base_data, estate_from, tenant_section, text_from

WRITER = """
import sys
from tenantry.governance import Actor
from tenantry.service import Service
from tenantry.spec import load_specs
service = Service.open(sys.argv[1])
states = [load_specs([p]).estate for p in sys.argv[2:]]
actor = Actor.local_operator()
i = 0
while True:
    result = service.apply(actor, states[i % 2], prune=True)
    print(f"acked {result.generation}", flush=True)
    i += 1
"""


def _variant(data: dict) -> None:
    for tenant in data["tenants"]:
        for guest in tenant["guests"]:
            guest["description"] = "variant"
    tenant_section(data, "acme")["networks"].extend(
        {
            "name": f"extra{n}",
            "segment": {"physical_network": "physnet1", "vlan": 110 + n},
            "subnets": [{"cidr": f"10.50.{n}.0/24"}],
        }
        for n in range(20)
    )


@pytest.mark.slow
def test_kill_during_applies_leaves_one_whole_state(tmp_path: Path) -> None:
    """After each kill -9 the estate equals spec A or spec B exactly, and no ack was lost."""
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(text_from(base_data()))
    variant = base_data()
    _variant(variant)
    second.write_text(text_from(variant))
    states = [estate_from(base_data()), estate_from(variant)]
    url = f"sqlite:///{tmp_path / 'tenantry.db'}"
    rng = random.Random(7)
    src = str(Path(__file__).resolve().parents[3] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(first), str(second)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # Kill only once the writer is in its loop (its first ack), at a random point after it:
        # on a loaded machine start-up alone can take seconds.
        assert writer.stdout is not None
        first_ack = writer.stdout.readline()
        time.sleep(rng.random() * 0.5)
        writer.send_signal(signal.SIGKILL)
        out, err = writer.communicate()
        out = first_ack + out
        acked = [int(line.split()[1]) for line in out.splitlines() if line.startswith("acked")]
        assert acked, f"the writer never acknowledged an apply: {err[-2000:]}"
        service = Service.open(url)
        snapshot = service.snapshot()
        service.close()
        assert snapshot.generation >= max(acked), "an acknowledged apply was lost"
        assert snapshot.estate in states, "the store holds a partial apply"
