"""Row 9: a tenant administrator cannot weaken port security through the API. Each attempt is
refused (403) and audited as refused, and the Northbound database enforcing the estate is
unchanged afterwards (re-applying the store's estate writes nothing, read-back is equal).
The twin: the provider may request the same relaxation, which then waits for a second
provider person (it is rejected here, so the shared server's estate stays as it was)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane.ovn import OvnBackend, OvnDeployment
from tenantry.service import Actor
from tests.helpers.server import RunningServer

PORT_GROUP = "/v1/port-group/pg-acme"

WEAKENINGS: dict[str, dict[str, Any]] = {
    "promiscuous": {"security": {"promiscuous": "accept"}},
    "forged-transmits": {"security": {"forged_transmits": "accept", "mac_changes": "accept"}},
    "rogue-dhcp-and-ra": {"security": {"dhcp_server": "accept", "router_advertisements": "accept"}},
    "vlan-passthru": {"vlan": {"mode": "vgt", "trunk": [[101, 102]]}},
}


def _programs(server: RunningServer) -> Programs:
    service = server.service()
    try:
        return compile_estate(service.estate(Actor.local_operator()))
    finally:
        service.close()


@pytest.fixture
def enforced(server: RunningServer, ovn_central: OvnDeployment) -> Iterator[OvnBackend]:
    """The server's estate enforced on the session's Northbound database."""
    backend = OvnBackend(ovn_central.nb_remote)
    backend.apply(_programs(server))
    yield backend
    backend.client.reconcile([])
    backend.close()


def _refusals(server: RunningServer) -> int:
    """Refused actions of the tenant administrator in the provider's audit view (all pages)."""
    count, start = 0, 0
    with server.as_user("padmin") as admin:
        while start is not None:
            page = admin.get("/v1/audit", params={"start": start, "limit": 1000}).json()
            count += sum(
                1
                for item in page["items"]
                if item["record"]["outcome"] == "refused" and item["record"]["actor"] == "tadmin"
            )
            start = page["next_start"]
    return count


def _weakened(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    result = dict(body)
    for key, value in change.items():
        result[key] = {**body.get(key, {}), **value} if key == "security" else value
    return result


@pytest.mark.parametrize("weakening", sorted(WEAKENINGS))
def test_tenant_admin_cannot_weaken_port_security(
    server: RunningServer, enforced: OvnBackend, weakening: str
) -> None:
    """403, an audit record of the refusal, and the Northbound rows exactly as before."""
    before = enforced.read_back().canonical()
    refusals = _refusals(server)
    with server.as_user("padmin") as admin:
        current = admin.get(PORT_GROUP)  # the tenant may not even read it
    body = _weakened(current.json()["body"], WEAKENINGS[weakening])
    with server.as_user("tadmin", "acme") as tenant:
        response = tenant.put(PORT_GROUP, json=body, headers={"If-Match": current.headers["etag"]})
    assert response.status_code == 403, response.text
    assert _refusals(server) == refusals + 1, "the refused attempt is not in the audit trail"
    enforced.apply(_programs(server))
    assert enforced.last_changes == []
    assert enforced.read_back().canonical() == before


def test_provider_relaxation_needs_a_second_person(server: RunningServer) -> None:
    """The legitimate path exists: the provider's request waits for approval (then rejected)."""
    with server.as_user("padmin") as admin:
        current = admin.get(PORT_GROUP)
        body = _weakened(current.json()["body"], WEAKENINGS["promiscuous"])
        response = admin.put(PORT_GROUP, json=body, headers={"If-Match": current.headers["etag"]})
        assert response.status_code == 202, response.text
        approval = response.json()["approval_id"]
    with server.as_user("padmin2") as second:
        assert second.post(f"/v1/approvals/{approval}/reject").status_code == 200
    with server.as_user("padmin") as admin:
        assert admin.get(PORT_GROUP).json()["body"]["security"]["promiscuous"] == "reject"
