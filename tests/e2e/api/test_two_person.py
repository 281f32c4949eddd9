"""The two-person rule over HTTPS: a sensitive operation cannot be completed by one person."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers.server import RunningServer, running_server

_names = itertools.count()


def _get(client: httpx.Client, path: str) -> tuple[dict[str, Any], str]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()["body"], response.headers["etag"]


def _new_tenant(admin: httpx.Client) -> str:
    name = f"doomed-{next(_names)}"
    created = admin.put(f"/v1/tenant/{name}", json={"name": name}, headers={"If-None-Match": "*"})
    assert created.status_code == 201, created.text
    return name


def _pending(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    problem = response.json()
    assert problem["code"] == "approval.required"
    assert response.headers["location"] == f"/v1/approvals/{problem['approval_id']}"
    return str(problem["approval_id"])


def _one_person_cannot_finish(server: RunningServer, approval: str) -> None:
    """The requester, with this session or a fresh one, is refused its own approval."""
    for token in (server.token("padmin"), server.login("padmin")):
        with server.client(token) as requester:
            refused = requester.post(f"/v1/approvals/{approval}/approve")
        assert refused.status_code == 403, refused.text


def _second_person_approves(server: RunningServer, approval: str) -> None:
    with server.as_user("padmin2") as second:
        done = second.post(f"/v1/approvals/{approval}/approve")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"


def test_deleting_a_tenant_needs_a_second_person(server: RunningServer) -> None:
    """The tenant survives the requester's delete and its self-approval; a colleague's
    approval deletes it."""
    with server.as_user("padmin") as admin:
        name = _new_tenant(admin)
        _, etag = _get(admin, f"/v1/tenant/{name}")
        approval = _pending(admin.delete(f"/v1/tenant/{name}", headers={"If-Match": etag}))
        _one_person_cannot_finish(server, approval)
        assert admin.get(f"/v1/tenant/{name}").status_code == 200
        _second_person_approves(server, approval)
        assert admin.get(f"/v1/tenant/{name}").status_code == 404


def test_changing_a_placement_tag_needs_a_second_person(server: RunningServer) -> None:
    """The tag changes only after the second approval."""
    with server.as_user("padmin") as admin:
        name = _new_tenant(admin)
        body, etag = _get(admin, f"/v1/tenant/{name}")
        moved = admin.put(
            f"/v1/tenant/{name}", json={**body, "placement_tag": "gold"}, headers={"If-Match": etag}
        )
        approval = _pending(moved)
        _one_person_cannot_finish(server, approval)
        assert _get(admin, f"/v1/tenant/{name}")[0]["placement_tag"] is None
        _second_person_approves(server, approval)
        assert _get(admin, f"/v1/tenant/{name}")[0]["placement_tag"] == "gold"


def test_moving_a_segment_needs_a_second_person(server: RunningServer) -> None:
    """A network's VLAN id moves only after the second approval."""
    name = f"spare{next(_names)}"
    vlan = 170 + next(_names) % 20
    with server.as_user("padmin") as admin:
        network = {"name": name, "segment": {"physical_network": "physnet1", "vlan": vlan}}
        created = admin.put(
            f"/v1/network/acme/{name}", json=network, headers={"If-None-Match": "*"}
        )
        assert created.status_code == 201, created.text
        moved = {**network, "segment": {"physical_network": "physnet1", "vlan": vlan + 1}}
        approval = _pending(
            admin.put(
                f"/v1/network/acme/{name}",
                json=moved,
                headers={"If-Match": created.headers["etag"]},
            )
        )
        _one_person_cannot_finish(server, approval)
        assert _get(admin, f"/v1/network/acme/{name}")[0]["segment"]["vlan"] == vlan
        _second_person_approves(server, approval)
        assert _get(admin, f"/v1/network/acme/{name}")[0]["segment"]["vlan"] == vlan + 1


def test_relaxing_l2_security_needs_a_second_person(server: RunningServer) -> None:
    """Forged transmits stay rejected until a colleague approves; tightening needs no one."""
    with server.as_user("padmin") as admin:
        body, etag = _get(admin, "/v1/port-group/pg-globex")
        relaxed = {**body, "security": {**body["security"], "forged_transmits": "accept"}}
        approval = _pending(
            admin.put("/v1/port-group/pg-globex", json=relaxed, headers={"If-Match": etag})
        )
        _one_person_cannot_finish(server, approval)
        assert _get(admin, "/v1/port-group/pg-globex")[0]["security"]["forged_transmits"] == (
            "reject"
        )
        _second_person_approves(server, approval)
        body, etag = _get(admin, "/v1/port-group/pg-globex")
        assert body["security"]["forged_transmits"] == "accept"
        # The positive control: tightening again is an ordinary change, done by one person.
        strict = {**body, "security": {**body["security"], "forged_transmits": "reject"}}
        tightened = admin.put("/v1/port-group/pg-globex", json=strict, headers={"If-Match": etag})
        assert tightened.status_code == 200, tightened.text


def test_disabling_a_provider_users_second_factor_needs_a_second_person(
    server: RunningServer,
) -> None:
    """MFA removal on the provider side waits for a colleague."""
    with server.as_user("padmin") as admin:
        approval = _pending(admin.delete("/v1/users/provider/target-p/mfa"))
    _one_person_cannot_finish(server, approval)
    _second_person_approves(server, approval)


def test_a_rejected_request_never_runs(server: RunningServer) -> None:
    """Rejected by a colleague: the tenant stays, and the request cannot be approved later."""
    with server.as_user("padmin") as admin:
        name = _new_tenant(admin)
        _, etag = _get(admin, f"/v1/tenant/{name}")
        approval = _pending(admin.delete(f"/v1/tenant/{name}", headers={"If-Match": etag}))
        with server.as_user("padmin2") as second:
            assert second.post(f"/v1/approvals/{approval}/reject").json()["status"] == "rejected"
            assert second.post(f"/v1/approvals/{approval}/approve").status_code == 409
        assert admin.get(f"/v1/tenant/{name}").status_code == 200


def test_plan_flags_what_will_need_approval(server: RunningServer) -> None:
    """A provider's plan says which changes wait for a second person."""
    with server.as_user("padmin") as admin:
        body, _ = _get(admin, "/v1/port-group/pg-dns")
        relaxed = {**body, "security": {**body["security"], "promiscuous": "accept"}}
        spec = {"version": 1, "port_groups": [relaxed]}
        planned = admin.post("/v1/plan", json=spec)
    assert planned.status_code == 200, planned.text
    (change,) = planned.json()["changes"]
    assert change["needs_approval"] == ["relax promiscuous on port group pg-dns"]


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server whose requests expire after two seconds."""
    env = {"TENANTRY_APPROVAL_TTL_SECONDS": "2"}
    with running_server(tmp_path_factory.mktemp("ttl"), env=env) as running:
        yield running


def test_an_expired_request_cannot_be_approved(short_lived: RunningServer) -> None:
    """Requests expire: past the TTL the colleague's approval is refused, nothing runs."""
    with short_lived.as_user("padmin") as admin:
        name = _new_tenant(admin)
        _, etag = _get(admin, f"/v1/tenant/{name}")
        approval = _pending(admin.delete(f"/v1/tenant/{name}", headers={"If-Match": etag}))
    time.sleep(2.5)
    with short_lived.as_user("padmin2") as second:
        late = second.post(f"/v1/approvals/{approval}/approve")
        assert late.status_code == 409 and "expired" in late.json()["detail"]
        assert second.get(f"/v1/approvals/{approval}").json()["status"] == "expired"
    with short_lived.as_user("padmin") as admin:
        assert admin.get(f"/v1/tenant/{name}").status_code == 200
