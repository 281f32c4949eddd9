"""Value types: MACs, sizes, rates, VLAN and port ranges, and the validators on objects."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tenantry.model import (
    CpuAllocation,
    Peer,
    Rule,
    Subnet,
    VlanPolicy,
    Vnic,
    format_bytes,
    link_local,
    parse_bytes,
    router_mac,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("512GiB", 512 * 1024**3), ("1.5TiB", 3 * 1024**4 // 2), ("100MB", 100_000_000), (42, 42)],
)
def test_sizes_parse(text: str | int, value: int) -> None:
    """Binary and decimal units are understood."""
    assert parse_bytes(text) == value


@given(st.integers(min_value=0, max_value=2**60))
def test_formatted_sizes_parse_back(value: int) -> None:
    """format_bytes is exact: it parses back to the same number."""
    assert parse_bytes(format_bytes(value)) == value


@pytest.mark.parametrize("bad", ["12 bananas", "-1GiB", "1.5B", True])
def test_bad_sizes_are_refused(bad: object) -> None:
    """Nonsense sizes raise ValueError (pydantic turns it into a located error)."""
    with pytest.raises(ValueError, match=r"size|whole number|boolean"):
        parse_bytes(bad)


def vnic(**fields: object) -> Vnic:
    base: dict[str, object] = {
        "name": "eth0",
        "port_group": "pg",
        "network": "n",
        "mac": "02:00:00:00:00:01",
    }
    return Vnic.model_validate({**base, **fields})


def test_mac_is_normalised() -> None:
    """Upper case and dashes become the canonical lower-case colon form."""
    assert vnic(mac="02-AB-00-00-00-01").mac == "02:ab:00:00:00:01"


@pytest.mark.parametrize("bad", ["01:00:5e:00:00:01", "00:00:00:00:00:00", "02:00:00:00:00"])
def test_multicast_zero_and_short_macs_are_refused(bad: str) -> None:
    """A vNIC needs a unicast, non-zero, complete MAC."""
    with pytest.raises(ValidationError):
        vnic(mac=bad)


def test_vnic_cannot_join_a_network_and_a_service() -> None:
    """One attachment per vNIC."""
    with pytest.raises(ValidationError, match="not both"):
        vnic(service="dns")


def test_unspecified_address_cannot_be_locked() -> None:
    """0.0.0.0 is never a locked address."""
    with pytest.raises(ValidationError):
        vnic(addresses=["0.0.0.0"])


@pytest.mark.parametrize(
    ("policy", "ok"),
    [
        ({"mode": "vst", "id": 10}, True),
        ({"mode": "vst"}, False),
        ({"mode": "est"}, True),
        ({"mode": "est", "id": 10}, False),
        ({"mode": "vgt", "trunk": ["10-20"]}, True),
        ({"mode": "vgt"}, False),
        ({"mode": "vgt", "trunk": [10], "id": 10}, False),
    ],
)
def test_vlan_policy_fields_match_the_mode(policy: dict[str, object], ok: bool) -> None:
    """VST needs one id, EST none, VGT an explicit trunk list and never a native VLAN."""
    if ok:
        VlanPolicy.model_validate(policy)
    else:
        with pytest.raises(ValidationError):
            VlanPolicy.model_validate(policy)


def test_gateway_outside_its_subnet_is_refused() -> None:
    """A subnet's gateway lies inside it and is a host address."""
    with pytest.raises(ValidationError, match="outside"):
        Subnet.model_validate({"cidr": "10.0.0.0/24", "gateway": "10.0.1.1"})
    with pytest.raises(ValidationError, match="host address"):
        Subnet.model_validate({"cidr": "10.0.0.0/24", "gateway": "10.0.0.255"})


def test_cidr_with_host_bits_is_refused() -> None:
    """10.0.0.1/24 is an address, not a network."""
    with pytest.raises(ValidationError, match="network address"):
        Subnet.model_validate({"cidr": "10.0.0.1/24"})


def test_ports_need_tcp_or_udp() -> None:
    """A port list on an ICMP rule is meaningless and refused."""
    with pytest.raises(ValidationError, match="ports need"):
        Rule.model_validate(
            {"action": "allow", "direction": "ingress", "protocol": "icmp", "ports": [1]}
        )


def test_peer_is_exactly_one_thing() -> None:
    """A peer cannot be both a CIDR and a selector."""
    with pytest.raises(ValidationError, match="exactly one"):
        Peer.model_validate({"cidr": "10.0.0.0/8", "selector": {"tags": ["a"]}})


def test_cpu_reservation_within_count_and_limit() -> None:
    """A guest cannot reserve more vCPUs than it has."""
    with pytest.raises(ValidationError, match="exceeds count"):
        CpuAllocation(count=2, reservation=3)


def test_router_mac_is_stable_unicast_and_local() -> None:
    """Router interface MACs are deterministic, unicast and locally administered."""
    mac = router_mac("acme", "r1", "app")
    assert mac == router_mac("acme", "r1", "app")
    first = int(mac[:2], 16)
    assert first & 1 == 0 and first & 2 == 2


def test_link_local_is_eui64() -> None:
    """RFC 4291 EUI-64: flip the U/L bit and insert ff:fe."""
    assert str(link_local("02:00:00:00:00:01")) == "fe80::ff:fe00:1"
