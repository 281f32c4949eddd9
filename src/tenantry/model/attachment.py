"""How vNICs attach: own networks or granted services, port-group VLAN modes, switches, uplinks."""

from __future__ import annotations

from collections import defaultdict

from tenantry.errors import Violation
from tenantry.model._violations import Collector
from tenantry.model.estate import Estate, VnicEntry
from tenantry.model.ids import PROVIDER, Ref
from tenantry.model.kinds import Kind
from tenantry.model.network import PortGroup, VlanMode

__all__ = ["check_attachment"]


def check_attachment(estate: Estate) -> list[Violation]:
    """vNIC attachment, VLAN-mode consistency, switch span and uplink sharing."""
    out = Collector()
    est_networks: dict[Ref, set[Ref]] = defaultdict(set)
    for entry in sorted(estate.vnics.values(), key=lambda e: e.ref):
        index = next(i for i, v in enumerate(entry.guest.vnics) if v is entry.vnic)
        field = f"vnics[{index}]"
        group = estate.port_group_of(entry)
        _check_service_grant(estate, entry, field, out)
        if group is None:
            continue
        if group.vlan.mode is VlanMode.EST and entry.network is not None:
            est_networks[Ref(PROVIDER, group.name)].add(entry.network)
        _check_vlan_mode(estate, entry, group, field, out)
        _check_switch_span(estate, entry, group, field, out)
    for group_ref, networks in est_networks.items():
        if len(networks) > 1:
            out.add(
                "est-single-segment",
                "an EST port group cannot tell segments apart; it serves "
                + ", ".join(sorted(str(n) for n in networks)),
                kind=Kind.PORT_GROUP,
                ref=group_ref,
                field="vlan",
            )
    _check_uplinks(estate, out)
    return out.violations


def _check_service_grant(estate: Estate, entry: VnicEntry, field: str, out: Collector) -> None:
    service_name = entry.vnic.service
    if service_name is None or entry.owner == PROVIDER:
        return
    service = estate.shared_services.get(Ref(PROVIDER, service_name))
    if service is not None and entry.owner not in service.granted_to:
        out.add(
            "service-grant",
            f"shared service {service_name} is not granted to {entry.owner}",
            kind=Kind.GUEST,
            ref=entry.guest_ref,
            field=f"{field}.service",
        )


def _check_vlan_mode(
    estate: Estate, entry: VnicEntry, group: PortGroup, field: str, out: Collector
) -> None:
    ref = entry.guest_ref
    network = estate.networks.get(entry.network) if entry.network is not None else None
    switch = estate.switches.get(Ref(PROVIDER, group.switch))
    if group.vlan.mode is VlanMode.VGT:
        if entry.vnic.network is not None or entry.vnic.service is not None:
            out.add(
                "trunk-attachment",
                "a vNIC on a VGT trunk reaches the networks of its trunk VLANs; "
                "drop network/service",
                kind=Kind.GUEST,
                ref=ref,
                field=field,
            )
        for net_ref in estate.segment_networks(entry):
            if net_ref.owner != entry.owner:
                out.add(
                    "trunk-foreign-vlan",
                    f"trunk of port group {group.name} carries network {net_ref} of another owner",
                    kind=Kind.GUEST,
                    ref=ref,
                    field=f"{field}.port_group",
                    objects=(f"port-group {group.name}", f"network {net_ref}"),
                )
        return
    if entry.network is None:
        out.add(
            "vnic-unattached",
            "a vNIC needs a network or a shared service (only VGT trunks need neither)",
            kind=Kind.GUEST,
            ref=ref,
            field=field,
        )
        return
    if network is None:
        return
    segment = network.segment
    if segment.type == "overlay":
        if group.vlan.mode is not VlanMode.EST:
            out.add(
                "overlay-needs-est",
                f"network {entry.network} is an overlay; its port group must use mode est",
                kind=Kind.GUEST,
                ref=ref,
                field=f"{field}.port_group",
            )
        return
    if group.vlan.mode is VlanMode.VST and group.vlan.id != segment.vlan:
        out.add(
            "vst-mismatch",
            f"port group {group.name} tags VLAN {group.vlan.id} but network "
            f"{entry.network} is VLAN {segment.vlan}",
            kind=Kind.GUEST,
            ref=ref,
            field=f"{field}.port_group",
        )
    if switch is not None and switch.physical_network != segment.physical_network:
        out.add(
            "switch-physnet",
            f"switch {switch.name} reaches {switch.physical_network or 'no physical network'}, "
            f"network {entry.network} is on {segment.physical_network}",
            kind=Kind.GUEST,
            ref=ref,
            field=f"{field}.port_group",
        )


def _check_switch_span(
    estate: Estate, entry: VnicEntry, group: PortGroup, field: str, out: Collector
) -> None:
    if entry.guest.host is None:
        return
    host = estate.hosts.get(Ref(PROVIDER, entry.guest.host))
    switch = estate.switches.get(Ref(PROVIDER, group.switch))
    if host is not None and switch is not None and host.cluster not in switch.clusters:
        out.add(
            "switch-on-host",
            f"switch {switch.name} does not span host {host.name} (cluster {host.cluster})",
            kind=Kind.GUEST,
            ref=entry.guest_ref,
            field=f"{field}.port_group",
        )


def _check_uplinks(estate: Estate, out: Collector) -> None:
    users: dict[tuple[str, str], str] = {}
    for ref, switch in sorted(estate.switches.items()):
        hosts = [h for h in estate.hosts.values() if h.cluster in switch.clusters]
        for i, uplink in enumerate(switch.uplinks):
            for host in hosts:
                nic = next((u for u in host.uplinks if u.name == uplink), None)
                if nic is None:
                    out.add(
                        "uplink-missing",
                        f"host {host.name} has no uplink {uplink}",
                        kind=Kind.VIRTUAL_SWITCH,
                        ref=ref,
                        field=f"uplinks[{i}]",
                    )
                    continue
                if nic.physical_network != switch.physical_network:
                    out.add(
                        "uplink-physnet",
                        f"uplink {uplink} of host {host.name} reaches {nic.physical_network}, "
                        f"not {switch.physical_network}",
                        kind=Kind.VIRTUAL_SWITCH,
                        ref=ref,
                        field=f"uplinks[{i}]",
                    )
                other = users.get((host.name, uplink))
                if other is not None and other != switch.name:
                    out.add(
                        "uplink-shared",
                        f"uplink {uplink} of host {host.name} is already used by switch {other}: "
                        "sharing it would bridge the two switches",
                        kind=Kind.VIRTUAL_SWITCH,
                        ref=ref,
                        field=f"uplinks[{i}]",
                        objects=(f"virtual-switch {other}", f"virtual-switch {switch.name}"),
                    )
                else:
                    users[(host.name, uplink)] = switch.name
