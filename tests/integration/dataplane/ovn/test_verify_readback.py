"""The verifier on what OVN enforces: planted leaks applied to OVN are found in the Northbound
read back, and every counterexample frame is delivered by ovn-trace; a clean estate's read
back verifies clean.

Leaks OVN cannot show are said so: segments merged only on the physical wire (a shared VLAN
id) are beyond OVN's logical switches, and a router whose only crossing is the policy-exempt
DHCPDISCOVER from 0.0.0.0 to a unicast address is dropped by OVN's port security (stricter
than the reference; docs/verify.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane.ovn import OvnBackend, OvnDeployment
from tenantry.model import Estate, Policy, Rule, Tier
from tenantry.service.isolation_ovn import BEYOND_OVN, OvnReplayer, verify_northbound
from tenantry.spec import load_specs
from tenantry.verify import Leak, LeakKind, Report
from tests.helpers.estates import EXAMPLES, with_policies
from tests.unit.verify import plants


@dataclass
class OnOvn:
    """One estate applied to OVN, verified from the read back, its leaks traced."""

    programs: Programs
    report: Report
    replays: list[list[str]]

    def leak(self, kind: LeakKind, source: str, target: str) -> tuple[Leak, list[str]]:
        for leak, problems in zip(self.report.leaks, self.replays, strict=True):
            if (leak.kind, leak.source, leak.target) == (kind, source, target):
                return leak, problems
        raise AssertionError(f"no {kind} leak {source} -> {target} in {self.report.summary()}")


@pytest.fixture(scope="module")
def backend(ovn_central: OvnDeployment) -> Iterator[OvnBackend]:
    made = OvnBackend(ovn_central.nb_remote)
    yield made
    made.close()


@pytest.fixture
def on_ovn(backend: OvnBackend, ovn_central: OvnDeployment) -> Callable[[Estate, Programs], OnOvn]:
    def run(estate: Estate, programs: Programs) -> OnOvn:
        backend.apply(programs)
        back, report = verify_northbound(estate, ovn_central.rundir)
        assert back.canonical() == programs.canonical()
        replayer = OvnReplayer(back, ovn_central.rundir)
        try:
            replays = [replayer.replay(leak.counterexample) for leak in report.leaks]
        finally:
            replayer.close()
        return OnOvn(back, report, replays)

    return run


Run = Callable[[Estate, Programs], OnOvn]


def _delivered(found: OnOvn) -> None:
    """Every counterexample of a run is delivered by ovn-trace, hop by hop."""
    assert found.report.leaks
    for leak, problems in zip(found.report.leaks, found.replays, strict=True):
        assert problems == [], f"{leak}\n{problems}"


def test_clean_estate_read_back_from_ovn_verifies_clean(on_ovn: Run) -> None:
    """The demo as OVN holds it: isolated, routers and the shared DNS segment included."""
    estate = plants.demo()
    found = on_ovn(estate, compile_estate(estate))
    assert found.report.isolated, found.report.summary()
    assert found.report.stats["routers"] == 2


def test_foreign_trunk_on_ovn_is_found_and_ovn_delivers_the_tagged_frame(on_ovn: Run) -> None:
    """A VGT trunk (parent and child ports in OVN) carrying sales' VLAN reaches sales."""
    estate = plants.foreign_trunk(plants.demo())
    found = on_ovn(estate, compile_estate(estate))
    leak, _ = found.leak(LeakKind.L2, "hr", "sales")
    assert "VLAN 130" in leak.counterexample.hops[0].summary
    _delivered(found)


def test_management_network_leak_on_ovn_is_delivered(on_ovn: Run) -> None:
    """Two tenants' guests without management isolation meet on the management switch."""
    estate = plants.bridged_management(plants.demo(), "hr", "sales")
    found = on_ovn(estate, compile_estate(estate))
    leak, _ = found.leak(LeakKind.L2, "hr", "sales")
    assert "management" in leak.cause
    _delivered(found)


def test_open_service_consumer_on_ovn_reaches_other_consumers(on_ovn: Run) -> None:
    """A DNS consumer port outside OVN's consumer-isolation group reaches the others."""
    estate = plants.demo()
    found = on_ovn(estate, plants.open_consumer(compile_estate(estate), "hr/payroll-1/eth1"))
    leak, _ = found.leak(LeakKind.L2, "hr", "sales")
    assert "not isolated" in leak.cause
    _delivered(found)


def test_isolated_service_consumers_on_ovn_do_not_reach_each_other(on_ovn: Run) -> None:
    """The legitimate flow beside the last one: consumers share DNS, not each other."""
    estate = plants.demo()
    found = on_ovn(estate, compile_estate(estate))
    assert not [leak for leak in found.report.leaks if leak.kind is LeakKind.L2]


def test_router_between_tenants_on_ovn_routes_an_allowed_packet(on_ovn: Run) -> None:
    """A logical router joining hr's and sales' switches routes a packet both chains allow."""
    out = Policy(name="out", tier=Tier.TENANT, rules=(Rule(action="allow", direction="egress"),))
    web_in = Rule(action="allow", direction="ingress", protocol="tcp", ports=("8443",))
    into = Policy(name="in", tier=Tier.TENANT, rules=(web_in,))
    estate = with_policies(plants.demo(), ("hr", out), ("sales", into))
    programs = plants.foreign_router(compile_estate(estate), "hr", "hr/app", "sales/analytics")
    found = on_ovn(estate, programs)
    leak, problems = found.leak(LeakKind.ROUTED, "hr", "sales")
    assert "router hr/rogue" in leak.counterexample.hops[0].path
    assert "exempt" not in leak.counterexample.hops[0].summary
    assert problems == []


def test_router_crossing_only_by_exempt_dhcp_is_stopped_by_ovn_port_security(
    on_ovn: Run,
) -> None:
    """Without a class both chains allow, the counterexample is the policy-exempt unicast
    DHCPDISCOVER from 0.0.0.0: the reference routes it, OVN's port security drops it."""
    estate = plants.demo()
    programs = plants.foreign_router(compile_estate(estate), "hr", "hr/app", "sales/analytics")
    found = on_ovn(estate, programs)
    leak, problems = found.leak(LeakKind.ROUTED, "hr", "sales")
    assert "exempt" in leak.counterexample.hops[0].summary
    assert problems and "port-security" in problems[0]


def test_guest_bridging_two_tenants_on_ovn_is_delivered_on_both_hops(on_ovn: Run) -> None:
    """fw-1's trunk vNICs on hr's and sales' VLANs: both hops delivered by ovn-trace."""
    estate = plants.bridging_guest(plants.demo())
    found = on_ovn(estate, compile_estate(estate))
    leak, _ = found.leak(LeakKind.BRIDGED, "hr", "sales")
    assert len(leak.counterexample.hops) == 2
    _delivered(found)


def test_vlan_merged_on_the_wire_is_found_and_reported_beyond_ovn(on_ovn: Run) -> None:
    """Two logical switches on VLAN 130 of physnet1 are one domain on the wire: the read back
    shows it, and the replay says the wire, not OVN, carries the frame."""
    estate = plants.duplicate_vlan(plants.demo())
    found = on_ovn(estate, compile_estate(estate))
    _, problems = found.leak(LeakKind.L2, "hr", "sales")
    assert problems and problems[0].startswith(BEYOND_OVN)


def test_cli_verify_backend_ovn_reads_back_and_traces(
    backend: OvnBackend, ovn_central: OvnDeployment
) -> None:
    """`tenantry verify --backend ovn` proves the Northbound contents, exit 1 on a leak, each
    counterexample traced with ovn-trace; the demo read back exits 0."""
    leaky = EXAMPLES / "two-tenants.yaml"
    backend.apply(compile_estate(load_specs([leaky], check=False).estate))
    args = ["verify", "--backend", "ovn", "--ovn-dir", str(ovn_central.rundir)]
    result = CliRunner().invoke(app, [*args, "--spec", str(leaky)])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "acme -> bravo [l2]" in text
    assert "replayed with ovn-trace: delivered" in text
    demo = EXAMPLES / "demo.yaml"
    backend.apply(compile_estate(load_specs([demo]).estate))
    result = CliRunner().invoke(app, [*args, "--spec", str(demo)])
    assert result.exit_code == 0, result.output
    assert "isolated" in result.output


def test_appliance_chain_on_ovn_is_found_and_every_hop_delivered(on_ovn: Run) -> None:
    """hr -> fw-a -> provider transit -> fw-b -> sales, read back from OVN: a chained leak
    whose three hops ovn-trace delivers one by one."""
    estate = plants.appliance_chain(plants.demo())
    found = on_ovn(estate, compile_estate(estate))
    leak, problems = found.leak(LeakKind.CHAINED, "hr", "sales")
    assert len(leak.counterexample.hops) == 3
    assert problems == []
    _delivered(found)


def test_half_an_appliance_chain_on_ovn_verifies_clean(on_ovn: Run) -> None:
    """fw-a alone, between hr's VLAN and the tenant-less transit network: isolated."""
    estate = plants.half_chain(plants.demo())
    found = on_ovn(estate, compile_estate(estate))
    assert found.report.isolated, found.report.summary()
