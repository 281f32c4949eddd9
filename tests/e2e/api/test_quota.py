"""Row 30: one tenant flooding the API gets 4xx (never 5xx) while another keeps working."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.helpers.server import RunningServer, running_server


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server allowing each tenant 20 requests/s (burst 20) and 6 objects."""
    env = {
        "TENANTRY_TENANT_REQUESTS_PER_SECOND": "20",
        "TENANTRY_TENANT_REQUEST_BURST": "20",
        "TENANTRY_TENANT_OBJECT_QUOTA": "6",
    }
    with running_server(tmp_path_factory.mktemp("quota"), env=env) as running:
        yield running


def test_flooding_tenant_is_limited_and_the_other_tenant_is_not(metered: RunningServer) -> None:
    """acme's flood meets 429s from its own bucket; globex's steady reads all succeed."""
    acme_token = metered.login("tadmin", "acme")
    globex_token = metered.login("gadmin", "globex")
    acme: Counter[int] = Counter()
    globex: Counter[int] = Counter()
    stop = threading.Event()

    def flood() -> None:
        with metered.client(acme_token) as client:
            for _ in range(150):
                acme[client.get("/v1/guest").status_code] += 1

    def steady() -> None:
        with metered.client(globex_token) as client:
            while not stop.is_set():
                globex[client.get("/v1/guest").status_code] += 1
                stop.wait(0.1)

    workers = [threading.Thread(target=flood) for _ in range(3)]
    reader = threading.Thread(target=steady)
    reader.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    reader.join()
    assert acme[429] > 0, acme
    assert set(acme) <= {200, 429}, acme
    assert set(globex) == {200}, globex


def test_object_quota_refuses_creation_beyond_it_with_a_4xx(metered: RunningServer) -> None:
    """Past 6 objects acme's creations get 429 admission.quota; globex still creates."""
    time.sleep(1.5)  # let acme's request bucket refill after the flood test
    with metered.as_user("tadmin", "acme") as acme:
        policy = acme.get("/v1/policy/acme/web-in").json()["body"]
        statuses = []
        for index in range(6):
            body = dict(policy, name=f"extra-{index}")
            response = acme.put(
                f"/v1/policy/acme/extra-{index}", json=body, headers={"If-None-Match": "*"}
            )
            statuses.append((response.status_code, response.json().get("code")))
    assert (201, None) in statuses
    assert statuses[-1] == (429, "admission.quota"), statuses
    assert all(status < 500 for status, _ in statuses)
    with metered.as_user("gadmin", "globex") as globex:
        body = dict(policy, name="mine")
        created = globex.put("/v1/policy/globex/mine", json=body, headers={"If-None-Match": "*"})
    assert created.status_code == 201, created.text
