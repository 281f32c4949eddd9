"""Row 33 with real data: disk read and export over HTTPS decrypt the tenant's disk through the
key service (SoftHSM2) under the release rule. The tenant reads its own plaintext; the
provider's administrators are refused without a grant; a grant opens exactly one disk for
one privilege until it expires; every use and every key release is in the tenant's view."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.disk_seed import ACME_ROOT, ACME_WEB_DISK_BYTES
from tests.helpers.server import RunningServer, running_server
from tests.helpers.softhsm import SoftHsm

pytestmark = pytest.mark.hsm

DISK = "/v1/guest/acme/web/disks/root"


def _tenant_audit(server: RunningServer) -> list[dict]:
    with server.as_user("tadmin", "acme") as tenant:
        page = tenant.get("/v1/audit", params={"limit": 1000}).json()
    return [item["record"] for item in page["items"]]


def _read(client, offset: int = 0, length: int = len(ACME_ROOT)):  # type: ignore[no-untyped-def]
    return client.post(f"{DISK}/read", params={"offset": offset, "length": length})


def test_tenant_admin_reads_its_own_disk_plaintext(server: RunningServer) -> None:
    """What acme's guest wrote comes back byte for byte, at any offset, via acme's role."""
    with server.as_user("tadmin", "acme") as tenant:
        whole = _read(tenant)
        middle = _read(tenant, offset=30, length=100)
    assert whole.status_code == 200, whole.text
    assert base64.b64decode(whole.json()["data"]) == ACME_ROOT
    assert whole.json()["via"] == "role" and whole.json()["length"] == len(ACME_ROOT)
    assert base64.b64decode(middle.json()["data"]) == ACME_ROOT[30:130]


def test_tenant_admin_exports_the_whole_disk(server: RunningServer) -> None:
    """Export streams every byte: the written part, then zeros."""
    with server.as_user("tadmin", "acme") as tenant:
        exported = tenant.post(f"{DISK}/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/octet-stream"
    assert exported.content == ACME_ROOT + bytes(ACME_WEB_DISK_BYTES - len(ACME_ROOT))


def test_read_past_the_end_of_the_disk_is_bad_input(server: RunningServer) -> None:
    """A range beyond the disk is 422 naming the size, not a crash or a short read."""
    with server.as_user("tadmin", "acme") as tenant:
        response = _read(tenant, offset=ACME_WEB_DISK_BYTES - 10, length=11)
    assert response.status_code == 422, response.text
    assert str(ACME_WEB_DISK_BYTES) in response.json()["detail"]


@pytest.mark.parametrize("operation", ["read", "export"])
def test_provider_admin_without_a_grant_gets_403_and_the_tenant_sees_it(
    server: RunningServer, operation: str
) -> None:
    """No grant, no plaintext, no key released; the refused attempt is in acme's audit view."""
    before = len(_tenant_audit(server))
    with server.as_user("padmin") as admin:
        response = admin.post(f"{DISK}/{operation}")
    assert response.status_code == 403, response.text
    assert ACME_ROOT[:20] not in response.content
    new = _tenant_audit(server)[before:]
    assert any(
        r["action"] == f"data.disk.{operation}"
        and r["outcome"] == "refused"
        and r["actor"] == "padmin"
        for r in new
    )
    assert not [r for r in new if r["action"] == "keys.release"]


def test_grant_opens_exactly_one_disk_until_it_expires(server: RunningServer) -> None:
    """The grantee reads acme/web's root under an approved grant, nothing else, and not after
    expiry; each use and each release is audited where acme sees it."""
    operator = server.login("grantee")
    with server.client(operator) as grantee:
        assert _read(grantee).status_code == 403
        with server.as_user("tadmin", "acme") as tenant:
            created = tenant.post(
                "/v1/grants",
                json={
                    "grantee": "grantee",
                    "guest": "acme/web",
                    "privilege": "disk.read",
                    "expires_in": 4,
                },
            )
        assert created.status_code == 202, created.text
        with server.as_user("padmin2") as approver:
            decided = approver.post(f"/v1/approvals/{created.json()['approval_id']}/approve")
        assert decided.status_code == 200, decided.text
        used = _read(grantee)
        assert used.status_code == 200, used.text
        assert base64.b64decode(used.json()["data"]) == ACME_ROOT
        assert used.json()["via"].startswith("grant ")
        assert grantee.post(f"{DISK}/export").status_code == 403  # another privilege
        assert grantee.post("/v1/guest/acme/web/memory-dump").status_code == 403
        assert grantee.post("/v1/guest/globex/web/disks/root/read").status_code == 403
        time.sleep(4.5)
        expired = _read(grantee)
        assert expired.status_code == 403, expired.text
    audit = _tenant_audit(server)
    uses = [(r["action"], r["outcome"]) for r in audit if r["actor"] == "grantee"]
    assert ("data.disk.read", "succeeded") in uses
    assert ("data.disk.read", "refused") in uses
    assert ("data.disk.export", "refused") in uses
    releases = [r for r in audit if r["action"] == "keys.release" and "grantee" in r["actor"]]
    assert releases and all(r["outcome"] == "succeeded" for r in releases)
    assert any(r["action"] == "grant.expire" for r in audit)


@pytest.fixture(scope="module")
def untrusting(
    tmp_path_factory: pytest.TempPathFactory, softhsm: SoftHsm
) -> Iterator[RunningServer]:
    """A server with the HSM but no host trust at all (the default: deny every host)."""
    tmp: Path = tmp_path_factory.mktemp("untrusting")
    with running_server(tmp, hsm=softhsm, env={"TENANTRY_UNSAFE_TRUST_HOSTS": ""}) as running:
        yield running


def test_authorized_read_without_a_trusted_host_releases_no_key(
    untrusting: RunningServer,
) -> None:
    """The tenant's own administrator is authorized, but no host is trusted: 403
    crypto.refused, no plaintext, and the refused release is in the tenant's view."""
    with untrusting.as_user("tadmin", "acme") as tenant:
        response = _read(tenant)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "crypto.refused"
    assert "not trusted" in response.json()["detail"]
    refused = [
        r
        for r in _tenant_audit(untrusting)
        if r["action"] == "keys.release" and r["outcome"] == "refused"
    ]
    assert refused and "untrusted-host" in refused[-1]["reason"]
