"""Which ports sit in which broadcast domain, as group-by arrays with an incremental overlay.

Built once per programs in O(ports) with numpy; a change then touches only its rows: the
base arrays stay, and rows changed since the build are kept aside (``changed``) and looked
up from the current programs.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import numpy.typing as npt

from tenantry.compiler import PortFlag, Programs, VlanModeCode
from tenantry.model import PROVIDER
from tenantry.verify.domains import Domains

__all__ = ["Layout"]

_Rows = npt.NDArray[np.intp]
_CONSUMER = int(PortFlag.SERVICE_CONSUMER)
"""As a plain int: ``int & IntFlag`` goes through the enum machinery, costly per row."""


def _group(keys: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]) -> tuple[_Rows, _Rows]:
    order = np.argsort(keys, kind="stable")
    return keys[order].astype(np.intp), rows[order].astype(np.intp)


class Layout:
    """Ports by domain (sending and receiving) and by guest, with per-domain tenant census."""

    def __init__(self, programs: Programs, domains: Domains) -> None:
        self.programs = programs
        self.dom_of = domains.of
        self.provider = programs.owners.index(PROVIDER) if PROVIDER in programs.owners else -1
        self.changed: set[int] = set()
        self.changed_send: dict[int, set[int]] = {}
        self.changed_recv: dict[int, set[int]] = {}
        self.changed_guest: dict[int, set[int]] = {}
        self._census: dict[int, tuple[Counter[int], Counter[int]]] = {}
        ports = programs.ports
        live = ports.live
        own = ports.segment.astype(np.int64)
        counts = np.diff(ports.trunk_offsets)
        trunk_rows = np.repeat(np.arange(len(ports), dtype=np.int64), counts)
        trunk_segs = ports.trunk_segments.astype(np.int64)
        trunk_ok = live[trunk_rows] & (own[trunk_rows] < 0)
        own_rows = np.flatnonzero(live & (own >= 0)).astype(np.int64)
        vgt = ports.vlan_mode == VlanModeCode.VGT
        recv_rows = np.concatenate([own_rows, trunk_rows[trunk_ok]])
        recv_segs = np.concatenate([own[own_rows], trunk_segs[trunk_ok]])
        sending_own = own_rows[~vgt[own_rows]]
        trunk_send = trunk_ok & vgt[trunk_rows]
        send_rows = np.concatenate([sending_own, trunk_rows[trunk_send]])
        send_segs = np.concatenate([own[sending_own], trunk_segs[trunk_send]])
        dom = self.dom_of.astype(np.int64)
        self.recv_dom, self.recv_rows = _group(dom[recv_segs], recv_rows)
        self.send_dom, self.send_rows = _group(dom[send_segs], send_rows)
        guest_rows = np.flatnonzero(live).astype(np.int64)
        self.guest_key, self.guest_rows = _group(
            ports.guest[guest_rows].astype(np.int64), guest_rows
        )
        self._owner = ports.owner
        self._flags = ports.flags

    # ------------------------------------------------------------------ per row (current)

    def is_tenant(self, row: int) -> bool:
        return int(self.programs.ports.owner[row]) != self.provider

    def owner(self, row: int) -> int:
        return int(self.programs.ports.owner[row])

    def flags(self, row: int) -> int:
        return int(self.programs.ports.flags[row])

    def is_consumer(self, row: int) -> bool:
        return bool(int(self.programs.ports.flags[row]) & _CONSUMER)

    def receives(self, row: int, programs: Programs | None = None) -> tuple[int, ...]:
        """The domains a port receives on."""
        ports = (programs or self.programs).ports
        if row >= len(ports) or not ports.live[row]:
            return ()
        own = int(ports.segment[row])
        segs = (own,) if own >= 0 else tuple(s for _, s in ports.trunk_of(row))
        return tuple(dict.fromkeys(int(self.dom_of[s]) for s in segs))

    def sends(self, row: int, programs: Programs | None = None) -> tuple[int, ...]:
        """The domains a port can send on (VGT: its trunk; VST/EST: its own segment)."""
        ports = (programs or self.programs).ports
        if row >= len(ports) or not ports.live[row]:
            return ()
        own = int(ports.segment[row])
        if int(ports.vlan_mode[row]) == VlanModeCode.VGT:
            segs = tuple(s for _, s in ports.trunk_of(row)) if own < 0 else ()
        else:
            segs = (own,) if own >= 0 else ()
        return tuple(dict.fromkeys(int(self.dom_of[s]) for s in segs))

    def member_of(self, row: int, programs: Programs | None = None) -> tuple[int, ...]:
        return tuple(dict.fromkeys((*self.sends(row, programs), *self.receives(row, programs))))

    # ------------------------------------------------------------------ by domain and guest

    def _slice(self, keys: _Rows, rows: _Rows, key: int) -> list[int]:
        low, high = np.searchsorted(keys, [key, key + 1])
        found: list[int] = rows[low:high].tolist()
        if self.changed:
            found = [r for r in found if r not in self.changed]
        return found

    def senders(self, domain: int) -> list[int]:
        """Live ports that can send on a domain, ascending."""
        base = self._slice(self.send_dom, self.send_rows, domain)
        return sorted(base + list(self.changed_send.get(domain, ())))

    def receivers(self, domain: int) -> list[int]:
        """Live ports that receive on a domain, ascending."""
        base = self._slice(self.recv_dom, self.recv_rows, domain)
        return sorted(base + list(self.changed_recv.get(domain, ())))

    def guest_ports(self, guest: int) -> list[int]:
        base = self._slice(self.guest_key, self.guest_rows, guest)
        return sorted(base + list(self.changed_guest.get(guest, ())))

    def census(self, domain: int) -> tuple[Counter[int], Counter[int]]:
        """Tenant owners of the ports in a domain: (all ports, non-consumer ports)."""
        found = self._census.get(domain)
        if found is None:
            # counted with numpy over the domain's rows: per-row Python is the cost of a change
            rows = np.unique(np.asarray(self.senders(domain) + self.receivers(domain), np.intp))
            ports = self.programs.ports
            owner = ports.owner[rows]
            tenant = owner != self.provider
            opened = tenant & ((ports.flags[rows] & _CONSUMER) == 0)
            everyone = Counter(owner[tenant].tolist())
            found = self._census[domain] = (everyone, Counter(owner[opened].tolist()))
        return found

    def seed_census(self, domain: int, everyone: Counter[int], open_ports: Counter[int]) -> None:
        """Set a domain's census computed elsewhere (in bulk)."""
        self._census[domain] = (everyone, open_ports)

    def _count(self, everyone: Counter[int], open_ports: Counter[int], row: int, step: int) -> None:
        if not self.is_tenant(row):
            return
        owner = self.owner(row)
        everyone[owner] += step
        if not self.is_consumer(row):
            open_ports[owner] += step
        for counter in (everyone, open_ports):
            if counter.get(owner, 1) <= 0:
                del counter[owner]

    # ------------------------------------------------------------------ changes

    def update(self, programs: Programs, rows: list[int]) -> set[int]:
        """Move to ``programs`` where only ``rows`` changed; the domains touched."""
        touched: set[int] = set()
        old = self.programs
        before = {row: self.member_of(row, old) for row in rows}
        for row, domains in before.items():
            for domain in domains:
                counts = self._census.get(domain)
                if counts is not None:
                    self._count(*counts, row, -1)
            touched.update(domains)
            for bucket in (self.changed_send, self.changed_recv):
                for domain in domains:
                    bucket.get(domain, set()).discard(row)
            if row < len(old.ports):
                self.changed_guest.get(int(old.ports.guest[row]), set()).discard(row)
        self.programs = programs
        for row in rows:
            self.changed.add(row)
            for domain in self.sends(row):
                self.changed_send.setdefault(domain, set()).add(row)
            for domain in self.receives(row):
                self.changed_recv.setdefault(domain, set()).add(row)
            if programs.ports.live[row]:
                self.changed_guest.setdefault(int(programs.ports.guest[row]), set()).add(row)
            for domain in self.member_of(row):
                counts = self._census.get(domain)
                if counts is not None:
                    self._count(*counts, row, 1)
                touched.add(domain)
        return touched
