"""Lab guests: namespaces, veths into br-int, addresses, cgroup limits; down removes only ours."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from pyroute2 import NetNS, netns

from tenantry.dataplane.environment import LabEnvironment
from tenantry.dataplane.lab import cgroups
from tenantry.dataplane.ovn.daemons import run_tool
from tenantry.errors import BackendUnavailableError
from tests.helpers.estates import example_estate
from tests.integration.dataplane.lab.conftest import RunningLab, free_prefix


def test_every_guest_has_its_namespace_nics_and_addresses(lab: RunningLab) -> None:
    """Each vNIC exists in its guest with the configured MAC and addresses, checksums off."""
    for guest in lab.env.lab.guests.values():
        assert guest.netns in netns.listnetns()
        with NetNS(guest.netns) as ns:
            for nic in guest.nics:
                link = ns.get_links(ifname=nic.ifname)[0]
                assert link.get_attr("IFLA_ADDRESS") == nic.mac
                assigned = {
                    f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}"
                    for a in ns.get_addr(index=link["index"])
                }
                assert set(nic.addresses) <= assigned
        for nic in guest.nics:
            features = run_tool(["ethtool", "-k", nic.ifname], netns=guest.netns)
            assert "tx-checksum-ip-generic: off" in features


def test_every_vnic_is_plugged_with_its_iface_id_and_up(lab: RunningLab) -> None:
    """The hypervisor ends carry external_ids:iface-id and OVN reports the ports up."""
    deployment = lab.env.deployment()
    for guest in lab.env.lab.guests.values():
        env = deployment.chassis_env(guest.chassis)
        remote = deployment.ovs_remote(guest.chassis)
        for nic in guest.nics:
            found = run_tool(
                ["ovs-vsctl", f"--db={remote}", "get", "Interface", nic.host_dev,
                 "external_ids:iface-id"], env=env,
            )  # fmt: skip
            assert found.strip().strip('"') == nic.iface_id
    up = lab.env.backend().client.ports_up()
    wanted = {nic.iface_id for g in lab.env.lab.guests.values() for nic in g.nics}
    assert wanted <= up


def test_guest_cgroups_hold_the_estate_limits(lab: RunningLab) -> None:
    """CPU quota and memory limit come from the guest's allocation (memory.size: 2GiB)."""
    guest = lab.env.lab.guest("acme/a1")
    limits = cgroups.read_limits([Path(p) for p in guest.cgroups])
    memory = limits.get("memory.limit_in_bytes") or limits.get("memory.max")
    assert memory == str(2 * 1024**3)
    quota = limits.get("cpu.cfs_quota_us") or limits.get("cpu.max", "").split()[0]
    assert int(quota) == 100_000


def test_processes_started_in_a_guest_run_in_its_namespace_and_cgroup(lab: RunningLab) -> None:
    """lab exec: the process sees the guest's interfaces and sits in the guest's cgroup."""
    process = lab.env.lab.spawn(
        "acme/a1", ["sh", "-c", "cat /proc/self/cgroup; ip -o link"], stdout=subprocess.PIPE
    )
    out = process.communicate(timeout=10)[0].decode()
    assert f"{lab.env.layout.prefix}-acme-a1" in out
    assert "eth1" in out


def test_lab_down_removes_what_it_made_and_nothing_else() -> None:
    """A foreign namespace, veth and cgroup survive; the lab's are all gone, daemons stopped."""
    prefix = free_prefix("tx")
    foreign = f"{prefix}-foreign"
    netns.create(foreign)
    foreign_cgroup = cgroups.CgroupLimits(foreign, None, None).directories()[0]
    foreign_cgroup.mkdir(exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="tdwn", dir="/tmp") as directory:
            env = LabEnvironment(Path(directory), prefix=prefix)
            env.up(example_estate("two-tenants"))
            made = {g.netns for g in env.lab.guests.values()}
            made |= {f"{prefix}-hv1", f"{prefix}-hv2", f"{prefix}-fabric"}
            pids = [p for p in env.liveness().values() if p]
            cgroup_dirs = [p for g in env.lab.guests.values() for p in g.cgroups]
            env.down()
            remaining = set(netns.listnetns())
            assert made.isdisjoint(remaining)
            assert foreign in remaining
            assert foreign_cgroup.exists()
            assert not any(Path(p).exists() for p in cgroup_dirs)
            assert not any(_running(pid) for pid in pids)
    finally:
        netns.remove(foreign)
        foreign_cgroup.rmdir()


def _running(pid: int) -> bool:
    """Alive and not a zombie (detached daemons may wait here for a reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_lab_refuses_to_reuse_a_namespace_it_did_not_create(lab: RunningLab) -> None:
    """A leftover namespace with a guest's name is refused, not taken over."""
    with tempfile.TemporaryDirectory(prefix="tdup", dir="/tmp") as directory:
        other = LabEnvironment(Path(directory), prefix=lab.env.layout.prefix)
        with pytest.raises(Exception, match="did not create"):
            other.lab.up(
                __import__("tenantry.dataplane.lab", fromlist=["plan_lab"]).plan_lab(
                    lab.programs,
                    example_estate("two-tenants"),
                    {"h1": "hv1", "h2": "hv2"},
                    lab.env.layout.prefix,
                ),
                lab.env.hypervisors(),
            )
        other.lab.guests.clear()


def test_lab_without_root_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root the lab fails with a clear error naming root."""
    from tenantry.dataplane import environment

    monkeypatch.setattr(environment.os, "geteuid", lambda: 1000)
    with pytest.raises(BackendUnavailableError, match="needs root"):
        environment.require_root("tenantry lab up")
