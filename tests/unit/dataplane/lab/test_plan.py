"""Lab plans from programs, and the attack catalogue built on them (no root needed)."""

from __future__ import annotations

from scapy.packet import Packet

from tenantry.compiler import compile_estate
from tenantry.dataplane.attackrun import _endpoint, _judge
from tenantry.dataplane.lab import plan_lab
from tenantry.dataplane.lab.catalogue import catalogue
from tenantry.dataplane.lab.plan import host_device_name, slug
from tenantry.dataplane.lab.topology import Topology
from tenantry.dataplane.reference import ReferenceBackend
from tests.helpers.estates import example_estate


def test_names_fit_the_kernel_and_are_stable() -> None:
    """Hypervisor-side veth names fit IFNAMSIZ and depend only on the iface-id."""
    name = host_device_name("tenantry-lab", "finance/ledger-web-1/eth0")
    assert len(name) <= 15
    assert name == host_device_name("tenantry-lab", "finance/ledger-web-1/eth0")
    assert name != host_device_name("tenantry-lab", "finance/ledger-web-1/eth1")
    assert slug("finance/ledger web#1") == "finance-ledger-web-1"


def test_plan_has_every_guest_vnic_address_and_limit() -> None:
    """Every port row becomes a vNIC with its MAC and prefixed addresses, on its chassis."""
    estate = example_estate("two-tenants")
    programs = compile_estate(estate)
    plan = plan_lab(programs, estate, {"h1": "hv1", "h2": "hv2"}, "tl")
    a1 = plan.guest("acme/a1")
    assert a1.chassis == "hv1"
    assert a1.memory_limit == 2 * 1024**3
    eth0 = next(n for n in a1.nics if n.ifname == "eth0")
    assert eth0.iface_id == "acme/a1/eth0"
    assert set(eth0.addresses) == {"10.1.0.11/24", "fd00:1::11/64"}
    assert set(eth0.gateways) == {"10.1.0.1", "fd00:1::1"}
    fw = next(n for n in plan.guest("acme/fw").nics)
    assert fw.addresses == ()
    assert {v.vlan: v.addresses for v in fw.vlans} == {110: ("10.1.0.5/24",), 111: ("10.1.1.5/24",)}
    a2 = plan.guest("acme/a2")
    assert any(n.ifname == "mgmt0" and n.addresses == ("192.168.10.102/24",) for n in a2.nics)


def _topology() -> Topology:
    programs = compile_estate(example_estate("two-tenants"))
    rows = {programs.port_name(r): r for r in programs.live_rows().tolist()}
    endpoints = tuple(
        _endpoint(programs, row, (name.rsplit("/", 1)[0], f"ns-{row}", "eth0", "hv1"))
        for name, row in rows.items()
    )
    return Topology(endpoints, _judge(ReferenceBackend(programs), rows), "fab", ("hv1", "hv2"),
                    ("172.31.255.1",))  # fmt: skip


def test_every_attack_has_a_legitimate_twin_and_findable_frames() -> None:
    """Each attack has frames carrying its signature and a control from the same guest."""
    attacks = catalogue(_topology(), lambda _: {}, lambda _: [])
    names = {a.name for a in attacks}
    for expected in ("arp-spoof-gateway", "ipv4-source-spoof", "ipv6-source-spoof",
                     "forged-source-mac", "mac-flooding", "vlan-double-tagging",
                     "guest-tagged-frame", "promiscuous-sniffing", "rogue-dhcp-server",
                     "rogue-router-advertisement", "rogue-ra-fragmented", "cross-tenant-scan-tcp",
                     "shared-service-bypass", "management-plane", "encapsulated-injection",
                     "non-ip-layer-2", "nd-spoof", "tcp-syn-retry"):  # fmt: skip
        assert expected in names
    for attack in attacks:
        assert attack.attack.frames
        assert attack.control.frames
        raw = b"".join(bytes(f) if isinstance(f, Packet) else f for f in attack.attack.frames)
        if attack.attack.forbid_at != ():  # the crash probe looks only at daemon liveness
            assert any(sig in raw for sig in attack.attack.signatures), attack.name
        assert attack.control.expect_at, attack.name
        if attack.name not in ("promiscuous-sniffing",):
            assert attack.control.sender.guest == attack.attack.sender.guest, attack.name


def test_controls_are_flows_the_reference_allows() -> None:
    """A control built from a flow is allowed by the reference; its attack twin differs."""
    topology = _topology()
    a1 = next(e for e in topology.endpoints if e.name == "acme/a1/eth0")
    flow = topology.allowed_flow(a1)
    assert flow is not None
    assert topology.judge(flow.src, flow.dst, flow.proto, flow.dport, 4)
    b1 = next(e for e in topology.endpoints if e.name == "bravo/b1/eth0")
    assert not topology.judge(a1, b1, "tcp", 443, 4)
