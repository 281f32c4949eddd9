"""The reconciler against a real Northbound database: idempotent, owned, drift-repairing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.compiler import Programs, compile_estate, recompile
from tenantry.dataplane.ovn import Change, ChangeKind, OvnBackend, OvnDeployment
from tenantry.dataplane.ovn.daemons import run_tool
from tenantry.errors import EnforcementDriftError
from tenantry.spec import load_specs
from tests.helpers.estates import EXAMPLES, example_estate


@pytest.fixture
def backend(ovn_central: OvnDeployment) -> Iterator[OvnBackend]:
    """A backend on the session's Northbound database, emptied of owned rows afterwards."""
    made = OvnBackend(ovn_central.nb_remote)
    yield made
    made.client.reconcile([])
    made.close()


@pytest.fixture(scope="module")
def demo() -> Programs:
    return compile_estate(example_estate("demo"))


def nbctl(central: OvnDeployment, *args: str) -> str:
    return run_tool(["ovn-nbctl", f"--db={central.nb_remote}", *args])


def seen_drift(backend: OvnBackend, programs: Programs, timeout: float = 3.0) -> list[Change]:
    """Drift, once the client's replica has received an out-of-band edit (it arrives
    asynchronously after ovn-nbctl returns)."""
    deadline = time.monotonic() + timeout
    while True:
        found = backend.drift(programs)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_applying_twice_writes_nothing_the_second_time(backend: OvnBackend, demo: Programs) -> None:
    """Idempotence: the same programs again produce zero Northbound writes."""
    backend.apply(demo)
    assert backend.last_changes
    backend.apply(demo)
    assert backend.last_changes == []


def test_fail_open_defaults_are_closed(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment
) -> None:
    """default_acl_drop is true and no vNIC port has empty port_security after apply."""
    backend.apply(demo)
    assert (
        nbctl(ovn_central, "get", "NB_Global", ".", "options:default_acl_drop").strip() == '"true"'
    )
    empty = nbctl(ovn_central, "--bare", "--columns=name", "find", "Logical_Switch_Port",
                  'type=""', "port_security=[]").split()  # fmt: skip
    assert empty == []


@pytest.mark.parametrize(
    "tamper",
    [
        ("lsp-set-port-security", "finance/ledger-web-1/eth0"),
        ("set", "NB_Global", ".", "options:default_acl_drop=false"),
        ("lsp-add", "seg/finance/app", "intruder"),
        (
            "set",
            "Logical_Switch_Port",
            "web/api-1/eth0",
            'addresses="02:40:00:00:01:21 10.41.0.99"',
        ),
    ],
    ids=["port-security-emptied", "default-drop-off", "foreign-port-plugged", "address-changed"],
)
def test_hand_edits_are_detected_and_repaired(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment, tamper: tuple[str, ...]
) -> None:
    """An out-of-band edit shows up as drift; applying again repairs it."""
    backend.apply(demo)
    nbctl(ovn_central, *tamper)
    drift = seen_drift(backend, demo)
    assert drift, f"{tamper} went unnoticed"
    backend.apply(demo)
    assert backend.last_changes
    assert backend.drift(demo) == []


def test_deleted_acl_is_detected_and_restored(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment
) -> None:
    """An ACL removed by hand from a policy's port group is found missing and put back."""
    backend.apply(demo)
    acl = nbctl(ovn_central, "--bare", "--columns=_uuid", "find", "ACL",
                'name="policy finance/db-tier rule 0"').split()[0]  # fmt: skip
    group = nbctl(ovn_central, "--bare", "--columns=name", "find", "Port_Group",
                  "external_ids:tenantry-policy=finance/db-tier").strip()  # fmt: skip
    nbctl(ovn_central, "remove", "Port_Group", group, "acls", acl)
    assert any(c.kind is ChangeKind.CREATE and c.table == "ACL" for c in seen_drift(backend, demo))
    backend.apply(demo)
    assert backend.drift(demo) == []


def test_foreign_rows_stay_byte_identical(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment
) -> None:
    """Rows tenantry does not own (a switch, a port group with an ACL) are never touched."""
    nbctl(ovn_central, "ls-add", "someone-elses", "--", "lsp-add", "someone-elses", "their-port")
    nbctl(ovn_central, "pg-add", "theirs", "their-port", "--", "acl-add", "theirs",
          "from-lport", "100", 'inport == @theirs && ip4', "allow")  # fmt: skip
    before = [
        nbctl(ovn_central, "list", table) for table in ("Logical_Switch", "Port_Group", "ACL")
    ]
    foreign = list(before)
    backend.apply(demo)
    backend.client.reconcile([])
    after = [nbctl(ovn_central, "list", table) for table in ("Logical_Switch", "Port_Group", "ACL")]
    assert after == foreign
    nbctl(ovn_central, "ls-del", "someone-elses", "--", "pg-del", "theirs")


def test_a_foreign_row_with_a_tenantry_name_is_refused(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment
) -> None:
    """A port named like one of ours but not owned by us is not taken over."""
    nbctl(ovn_central, "ls-add", "squatter", "--", "lsp-add", "squatter", "web/db-1/eth0")
    time.sleep(0.2)
    try:
        with pytest.raises(Exception, match="does not own"):
            backend.apply(demo)
    finally:
        nbctl(ovn_central, "ls-del", "squatter")


def test_reconcile_survives_restarts_of_the_database_and_northd(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment
) -> None:
    """After ovsdb-server (NB) and ovn-northd restart, the same client applies and waits."""
    backend.apply(demo)
    ovn_central.restart("ovsdb-nb")
    ovn_central.restart("ovn-northd")
    nbctl(ovn_central, "lsp-set-port-security", "hr/portal-1/eth0")
    assert seen_drift(backend, demo, timeout=10.0)
    backend.apply(demo)
    assert backend.last_changes
    assert backend.drift(demo) == []


def test_read_back_is_what_was_applied(backend: OvnBackend) -> None:
    """Read-back rebuilds the programs applied (by name) from the Northbound rows."""
    for name in ("two-tenants", "demo"):
        programs = compile_estate(example_estate(name))
        backend.apply(programs)
        assert backend.read_back().canonical() == programs.canonical()


def test_read_back_refuses_a_hand_edited_acl(
    backend: OvnBackend, demo: Programs, ovn_central: OvnDeployment
) -> None:
    """A rule changed by hand cannot be proven about: read-back says so."""
    backend.apply(demo)
    acl = nbctl(ovn_central, "--bare", "--columns=_uuid", "find", "ACL",
                'name="policy finance/web-tier rule 0"').split()[0]  # fmt: skip
    nbctl(ovn_central, "set", "ACL", acl, "action=allow")
    assert seen_drift(backend, demo)
    with pytest.raises(EnforcementDriftError):
        backend.read_back()


def test_policy_change_touches_only_its_owner(backend: OvnBackend, tmp_path: Path) -> None:
    """An incremental apply of one tenant's policy change writes only that tenant's rows."""
    before = load_specs([EXAMPLES / "demo.yaml"]).estate
    text = (
        (EXAMPLES / "demo.yaml")
        .read_text()
        .replace(
            "ports: [5432],\n             peer: {selector: {tags: [web]}}, log: true}",
            "ports: [5433],\n             peer: {selector: {tags: [web]}}, log: true}",
        )
    )
    changed = tmp_path / "demo.yaml"
    changed.write_text(text)
    after = load_specs([changed]).estate
    programs = compile_estate(before)
    backend.apply(programs)
    updated, delta = recompile(programs, before, after)
    assert not delta.full
    backend.apply(updated, delta)
    touched = {c.key for c in backend.last_changes if c.table != "NB_Global"}
    assert touched
    assert all("finance" in key for key in touched), touched
    assert backend.drift(updated) == []


def _stable_size(path: Path, quiet: float = 0.5, limit: float = 10.0) -> int:
    """The file's size once it has not changed for ``quiet`` seconds (northd's echo done)."""
    deadline = time.monotonic() + limit
    size = path.stat().st_size
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = path.stat().st_size
        if now == size:
            return size
        size = now
    return size


def test_reapplying_the_same_policy_commits_nothing(
    backend: OvnBackend, ovn_central: OvnDeployment, tmp_path: Path
) -> None:
    """Row 22: re-applying identical programs (full and as an empty delta) commits no
    Northbound transaction, measured on the database file, which grows with every commit;
    the twin, a real policy change, does grow it."""
    estate = load_specs([EXAMPLES / "demo.yaml"]).estate
    programs = compile_estate(estate)
    backend.apply(programs)
    database = ovn_central.rundir / "nb.db"
    size = _stable_size(database)
    for _ in range(3):
        backend.apply(programs)
        assert backend.last_changes == []
        same, delta = recompile(programs, estate, estate)
        backend.apply(same, delta)
        assert backend.last_changes == []
    assert _stable_size(database) == size
    changed = tmp_path / "demo.yaml"
    changed.write_text(
        (EXAMPLES / "demo.yaml").read_text().replace("ports: [5432]", "ports: [5433]")
    )
    after = load_specs([changed]).estate
    updated, delta = recompile(programs, estate, after)
    backend.apply(updated, delta)
    assert backend.last_changes
    assert _stable_size(database) > size


def test_a_group_membership_change_is_enforced_incrementally(
    backend: OvnBackend, tmp_path: Path
) -> None:
    """A guest's tags changing (address-set and port-group membership, no policy edited) is
    written by the incremental apply: nothing differs from the new programs afterwards."""
    before = load_specs([EXAMPLES / "two-tenants.yaml"]).estate
    text = (EXAMPLES / "two-tenants.yaml").read_text()
    guest = (
        "      - name: a3\n        image: linux\n        host: h2\n        memory: {size: 2GiB}\n"
    )
    assert guest + "        tags: [db]\n" in text
    changed = tmp_path / "two-tenants.yaml"
    changed.write_text(
        text.replace(guest + "        tags: [db]\n", guest + "        tags: [db, web]\n")
    )
    after = load_specs([changed]).estate
    programs = compile_estate(before)
    backend.apply(programs)
    updated, delta = recompile(programs, before, after)
    assert not delta.full and not delta.policies
    backend.apply(updated, delta)
    assert backend.last_changes
    assert backend.drift(updated) == []
