"""Paths of several forwarding hops: guests that bridge and routers, composed.

A guest forwards between its vNICs and a router between its interfaces, so a frame can go
from one tenant through a chain of them to another even when no single guest or router
touches both tenants (a provider transit network between two bridging appliances, a router
followed by a bridging guest). Domains joined by forwarders form components; a component
holding ports of two tenants is searched hop by hop for a concrete path, which becomes the
counterexample. Components are kept in a union-find over domains: a change only merges (a
split leaves a component too large, which costs a search but never hides a path).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from tenantry.compiler import PortFlag
from tenantry.verify._layout import Layout
from tenantry.verify._links import LinkFinder
from tenantry.verify._paths import PathSearch
from tenantry.verify._routing import RouteFinder
from tenantry.verify.report import Leak

__all__ = ["ChainFinder"]

NONE, MANY = -1, -2


class ChainFinder:
    """Components of domains joined by forwarders, and the chained leaks inside them."""

    def __init__(self, layout: Layout, links: LinkFinder, routes: RouteFinder) -> None:
        self.layout = layout
        self.links = links
        self.routes = routes
        programs = layout.programs
        ports = programs.ports
        size = max(len(layout.dom_of), 1)
        service = ports.guest[(ports.flags & PortFlag.SERVICE_PROVIDER) != 0]
        self.endpoints: set[int] = set(np.unique(service).tolist())
        rows = np.concatenate([layout.send_rows, layout.recv_rows])
        doms = np.concatenate([layout.send_dom, layout.recv_dom]).astype(np.int64)
        guests = ports.guest[rows].astype(np.int64)
        forwarder = ~np.isin(guests, np.fromiter(self.endpoints, np.int64, len(self.endpoints)))
        consumer = (ports.flags[rows] & PortFlag.SERVICE_CONSUMER) != 0
        self.hub = np.zeros(size, np.bool_)
        """Domains with an open port of a forwarder: a consumer there reaches a forwarder."""
        self.hub[doms[forwarder & ~consumer]] = True
        joins = forwarder & (~consumer | self.hub[doms])
        first = np.full(max(len(programs.guests), 1), size, np.int64)
        np.minimum.at(first, guests[joins], doms[joins])
        router_left, router_right = self._router_edges()
        left = np.concatenate([first[guests[joins]], router_left])
        right = np.concatenate([doms[joins], router_right])
        # a tenant's guests repeat the same few joins: propagate over the distinct ones
        keep = left != right
        pairs = np.unique(left[keep] * size + right[keep])
        self.parent = _components(size, pairs // size, pairs % size)
        tenant = ports.owner[rows] != layout.provider
        present = tenant & (~consumer | self.hub[doms])
        n = max(len(programs.owners), 1)
        keys = np.unique(self.parent[doms[present]] * n + ports.owner[rows][present])
        self.cls = _classify(keys, n, size)
        self.members: dict[int, list[int]] = _members(self.parent)
        """Domains of each root with more than one (a split is applied when examined)."""
        self.found: dict[int, list[Leak]] = {}
        self.paths = PathSearch(layout, links, routes, self.hub, self.endpoints)

    def _router_edges(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(first leg's domain, each leg's domain) of every router."""
        legs = self.routes.legs.values()
        segments = np.fromiter((leg.segment for group in legs for leg in group), np.int64)
        counts = np.fromiter((len(group) for group in legs), np.int64, len(legs))
        doms = self.layout.dom_of[segments].astype(np.int64)
        starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        return np.repeat(doms[starts] if len(doms) else doms, counts), doms

    # ------------------------------------------------------------------ union-find

    def find(self, domain: int) -> int:
        parent = self.parent
        while (up := int(parent[domain])) != domain:
            parent[domain] = parent[up]
            domain = up
        return domain

    def _union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        low, high = min(ra, rb), max(ra, rb)
        self.parent[high] = low
        self.cls[low] = _merge(int(self.cls[low]), int(self.cls[high]))
        self.members[low] = self.members.get(low, [low]) + self.members.pop(high, [high])
        stale = self.found.pop(high, None)
        if stale is not None:
            self.found.setdefault(low, [])
        return low

    def _eligible(self, row: int, domain: int) -> bool:
        return self.paths.eligible(row, domain)

    def _forwards(self, guest: int) -> bool:
        return self.paths.forwards(guest)

    # ------------------------------------------------------------------ changes

    def note(self, rows: Iterable[int]) -> set[int]:
        """Join what changed ``rows`` join (rows of the current programs); the roots touched."""
        layout = self.layout
        ports = layout.programs.ports
        roots: set[int] = set()
        for row in rows:
            if not ports.live[row]:
                continue
            guest = int(ports.guest[row])
            forwards = self._forwards(guest)
            mine = layout.member_of(row)
            if forwards and not layout.is_consumer(row):
                for domain in mine:
                    if not self.hub[domain]:
                        self.hub[domain] = True
                        roots.add(self._join_consumers(domain))
            for domain in mine:
                root = self.find(domain)
                if layout.is_tenant(row) and self._eligible(row, domain):
                    self.cls[root] = _merge(int(self.cls[root]), layout.owner(row))
                roots.add(root)
            if not forwards:
                continue
            # the guest's other domains are joined already: one of them stands for all
            joined = [d for d in mine if self._eligible(row, d)]
            other = self._other_domain(guest, row)
            if other is not None:
                joined.append(other)
            for domain in joined[1:]:
                roots.add(self._union(joined[0], domain))
        return {self.find(r) for r in roots}

    def _other_domain(self, guest: int, row: int) -> int | None:
        for port in self.layout.guest_ports(guest):
            if port != row:
                for domain in self.layout.member_of(port):
                    if self._eligible(port, domain):
                        return domain
        return None

    def _join_consumers(self, domain: int) -> int:
        """A domain just became a hub: its consumers' guests now join it."""
        layout = self.layout
        root = self.find(domain)
        for row in layout.receivers(domain):
            if not layout.is_consumer(row):
                continue
            if layout.is_tenant(row):
                root = self.find(root)
                self.cls[root] = _merge(int(self.cls[root]), layout.owner(row))
            guest = int(layout.programs.ports.guest[row])
            if self._forwards(guest):
                for port in layout.guest_ports(guest):
                    for other in layout.member_of(port):
                        root = self._union(root, other)
        return self.find(root)

    def examine(self, roots: Iterable[int], direct: set[tuple[str, str]], limit: int) -> None:
        """Search the components of ``roots`` that may hold two tenants (or held leaks);
        a component found split by a change is re-rooted, part by part, exactly."""
        for root in {self.find(r) for r in roots}:
            if int(self.cls[root]) != MANY and root not in self.found:
                continue
            self.found.pop(root, None)
            left = set(self.members.pop(root, [root]))
            while left:
                domains, tenants = self.paths.component(min(left))
                left.difference_update(domains)
                new = domains[0]
                for domain in domains:
                    self.parent[domain] = new
                if len(domains) > 1:
                    self.members[new] = domains
                self.cls[new] = (
                    NONE if not tenants else next(iter(tenants)) if len(tenants) == 1 else MANY
                )
                if len(tenants) >= 2:
                    found = self.paths.leaks(domains, tenants, direct, limit)
                    if found:
                        self.found[new] = found

    def examine_all(self, direct: set[tuple[str, str]], limit: int) -> None:
        self.examine(np.flatnonzero(self.cls == MANY).tolist(), direct, limit)


def _components(
    size: int, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Connected components by min-label propagation with pointer jumping: label = root."""
    labels = np.arange(size, dtype=np.int64)
    if not len(left):
        return labels
    while True:
        low = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(before, labels):
            return labels


def _classify(keys: npt.NDArray[np.int64], n: int, size: int) -> npt.NDArray[np.int64]:
    out = np.full(size, NONE, np.int64)
    roots, owners = keys // n, keys % n
    uniq, first, counts = np.unique(roots, return_index=True, return_counts=True)
    out[uniq] = np.where(counts == 1, owners[first], MANY)
    return out


def _members(labels: npt.NDArray[np.int64]) -> dict[int, list[int]]:
    """Root -> its domains, for roots with more than one."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    found: dict[int, list[int]] = {}
    for start, count in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        found[int(ordered[start])] = order[start : start + count].tolist()
    return found


def _merge(a: int, b: int) -> int:
    if a == NONE:
        return b
    if b in (NONE, a):
        return a
    return MANY
