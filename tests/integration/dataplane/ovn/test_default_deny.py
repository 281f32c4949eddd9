"""Row 20: a new port with no tenant rules is denied by default on OVN; only DHCP and ARP to
its gateway work; one allow opens exactly its own cell. OVN's verdicts come from ovn-trace on
the real Southbound flows, and the reference backend must agree on each one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane import Disposition, packets
from tenantry.dataplane.ovn import OvnBackend, OvnDeployment, OvnTracer
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.spec import load_specs
from tests.helpers.dataplane import Ports
from tests.helpers.estates import EXAMPLES

NEW = "acme/a4/eth0"
NEW_GUEST = """      - name: a4
        image: linux
        host: h1
        memory: {size: 2GiB}
        tags: [fresh]
        vnics:
          - {name: eth0, port_group: pg-acme-app, network: app, mac: "02:00:00:01:00:06",
             addresses: [10.1.0.16]}
"""
ONE_ALLOW = """      - name: fresh
        tier: tenant
        order: 120
        applies_to: {tags: [fresh]}
        rules:
          - {action: allow, direction: ingress, protocol: tcp, ports: [8080],
             peer: {selector: {tags: [web]}}}
      - name: to-fresh
        tier: tenant
        order: 130
        applies_to: {tags: [web]}
        rules:
          - {action: allow, direction: egress, protocol: tcp, ports: [8080],
             peer: {selector: {tags: [fresh]}}}
"""
#: Probed services; ICMP is left out because the provider's baseline allows it everywhere.
PROBES = [("tcp", 22), ("tcp", 80), ("tcp", 443), ("tcp", 8080), ("udp", 53), ("udp", 5060)]


OVERLAPPING = """      - name: fresh
        tier: tenant
        order: 120
        applies_to: {tags: [fresh]}
        rules:
          - {action: allow, direction: ingress, protocol: tcp, ports: [8000-8100],
             peer: {selector: {tags: [web]}}}
          - {action: allow, direction: ingress, protocol: tcp, ports: [8050-8200],
             peer: {selector: {tags: [web]}}}
      - name: to-fresh
        tier: tenant
        order: 130
        applies_to: {tags: [web]}
        rules:
          - {action: allow, direction: egress, protocol: tcp, ports: [7000-9000],
             peer: {selector: {tags: [fresh]}}}
"""


def _programs(tmp_path: Path, *, allow: bool, rules: str = ONE_ALLOW) -> Programs:
    text = (EXAMPLES / "two-tenants.yaml").read_text()
    text = text.replace(
        "    policies:\n      - name: web\n", NEW_GUEST + "    policies:\n      - name: web\n"
    )
    if allow:
        text = text.replace("\n  - name: bravo\n", "\n" + rules + "\n  - name: bravo\n")
    spec = tmp_path / f"spec-{allow}-{len(rules)}.yaml"
    spec.write_text(text)
    return compile_estate(load_specs([spec]).estate)


@pytest.fixture(scope="module")
def ovn(ovn_central: OvnDeployment) -> Iterator[OvnBackend]:
    backend = OvnBackend(ovn_central.nb_remote)
    backend.tracer = OvnTracer(ovn_central.sb_remote, ovn_central.rundir)
    yield backend
    backend.client.reconcile([])
    backend.close()


def _sources(programs: Programs) -> list[str]:
    """Every other vNIC with an IPv4 address on the new port's segment."""
    row = programs.port_row(NEW)
    assert row is not None
    ports = Ports(programs)
    return [
        name
        for name in ("acme/a1/eth0", "acme/a2/eth0", "acme/infra/eth0", "acme/fw/eth0")
        if ports[name].ip != "0.0.0.0"
    ]


def _reaches(
    backend: OvnBackend | ReferenceBackend, programs: Programs, frame: bytes, src: str
) -> bool:
    verdict = backend.classify(frame, src)
    return verdict.action is Disposition.FORWARD and programs.port_row(NEW) in verdict.egress


def _open_cells(ovn: OvnBackend, programs: Programs) -> set[tuple[str, str, int]]:
    ports = Ports(programs)
    reference = ReferenceBackend(programs)
    opened = set()
    for src in _sources(programs):
        for proto, port in PROBES:
            frame = ports.tcp(src, NEW, port) if proto == "tcp" else ports.udp(src, NEW, port)
            got = _reaches(ovn, programs, frame, src)
            assert got == _reaches(reference, programs, frame, src), (src, proto, port)
            if got:
                opened.add((src, proto, port))
    return opened


def test_a_new_port_without_rules_is_denied_from_everywhere(
    ovn: OvnBackend, tmp_path: Path
) -> None:
    """Every probed cell towards the new port is closed; its DHCP and gateway ARP still work."""
    programs = _programs(tmp_path, allow=False)
    ovn.apply(programs)
    assert _open_cells(ovn, programs) == set()
    port = Ports(programs)[NEW]
    arp = packets.ethernet(
        "ff:ff:ff:ff:ff:ff", port.mac, packets.ETH_ARP,
        packets.arp(1, port.mac, port.ip, "00:00:00:00:00:00", "10.1.0.1"),
    )  # fmt: skip
    assert ovn.classify(arp, NEW).action is Disposition.REPLY
    discover = packets.ethernet(
        "ff:ff:ff:ff:ff:ff", port.mac, packets.ETH_IPV4,
        packets.ipv4("0.0.0.0", "255.255.255.255", 17,
                     packets.udp("0.0.0.0", "255.255.255.255", 68, 67, packets.dhcp(1, port.mac))),
    )  # fmt: skip
    verdict = ovn.classify(discover, NEW)
    assert programs.port_row("acme/infra/eth0") in verdict.egress, verdict


def test_one_allow_opens_exactly_its_cell(ovn: OvnBackend, tmp_path: Path) -> None:
    """The twin: one allow (tcp/8080 from web guests; the web side's egress allows it too, as
    acme/app denies by default both ways) opens exactly those cells and nothing else."""
    programs = _programs(tmp_path, allow=True)
    ovn.apply(programs)
    assert _open_cells(ovn, programs) == {
        ("acme/a1/eth0", "tcp", 8080),
        ("acme/a2/eth0", "tcp", 8080),
    }


def test_overlapping_port_ranges_behave_as_their_union(ovn: OvnBackend, tmp_path: Path) -> None:
    """Row 24: two overlapping allows (8000-8100, 8050-8200) admit exactly their union, on
    OVN and in the reference; the ports just outside stay closed."""
    programs = _programs(tmp_path, allow=True, rules=OVERLAPPING)
    ovn.apply(programs)
    ports = Ports(programs)
    reference = ReferenceBackend(programs)
    opened = set()
    for port in (7999, 8000, 8049, 8075, 8100, 8101, 8150, 8200, 8201):
        frame = ports.tcp("acme/a1/eth0", NEW, port)
        got = _reaches(ovn, programs, frame, "acme/a1/eth0")
        assert got == _reaches(reference, programs, frame, "acme/a1/eth0"), port
        if got:
            opened.add(port)
    assert opened == {8000, 8049, 8075, 8100, 8101, 8150, 8200}
