"""The isolation proof of a whole estate, kept up to date change by change.

``IsolationState`` finds every candidate with numpy group-bys over the port table in
O(ports): a broadcast domain is suspect only if ports of two tenants meet there, a guest
only if its domains hold two tenants, a router only if its domains do. Only suspects are
examined port by port, and each yields a counterexample. ``update`` re-examines only the
domains, guests and routers a change touches.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import numpy.typing as npt

from tenantry.compiler import PortFlag, ProgramDelta, Programs
from tenantry.model import Ref
from tenantry.verify._chains import ChainFinder
from tenantry.verify._layout import Layout
from tenantry.verify._links import LinkFinder
from tenantry.verify._routing import RouteFinder
from tenantry.verify._storage import storage_leaks
from tenantry.verify.domains import Domains, map_domains, wire_programs
from tenantry.verify.facts import PhysicalFacts
from tenantry.verify.report import Leak, LeakKind, Report

__all__ = ["DEFAULT_LIMIT", "IsolationState", "verify"]

DEFAULT_LIMIT = 10_000
"""Leaks reported at most (the report says when there are more)."""
NONE, MANY = -1, -2


def verify(programs: Programs, facts: PhysicalFacts, *, limit: int = DEFAULT_LIMIT) -> Report:
    """Prove that no frame, packet or disk crosses between tenants, or show how one does."""
    return IsolationState(programs, facts, limit=limit).report()


def _classify(keys: npt.NDArray[np.int64], n_owners: int, size: int) -> npt.NDArray[np.int64]:
    """Per domain: its one tenant, NONE, or MANY (from unique domain*n+owner keys)."""
    out = np.full(size, NONE, np.int64)
    doms, owners = keys // n_owners, keys % n_owners
    uniq, first, counts = np.unique(doms, return_index=True, return_counts=True)
    out[uniq] = np.where(counts == 1, owners[first], MANY)
    return out


class IsolationState:
    """Every leak of one generation of programs, updatable by the rows a change touches."""

    def __init__(
        self, programs: Programs, facts: PhysicalFacts, *, limit: int = DEFAULT_LIMIT
    ) -> None:
        started = time.perf_counter()
        self.facts = facts
        self.limit = limit
        self.domains: Domains = map_domains(programs, facts)
        self.layout = Layout(programs, self.domains)
        self.links = LinkFinder(self.layout, self.domains)
        self.routes = RouteFinder(self.layout, self.domains)
        self.chains = ChainFinder(self.layout, self.links, self.routes)
        self.l2: dict[int, list[Leak]] = {}
        self.bridged: dict[int, list[Leak]] = {}
        self.routed: dict[Ref, list[Leak]] = {}
        self.storage = storage_leaks(facts)
        self._tenants: tuple[str, ...] | None = None
        self._live = 0
        self._domain_count = int((self.domains.of >= 0).sum())
        self._full()
        self.build_ms = (time.perf_counter() - started) * 1000

    @property
    def programs(self) -> Programs:
        return self.layout.programs

    # ------------------------------------------------------------------ whole estate

    def _entries(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        layout = self.layout
        rows = np.concatenate([layout.send_rows, layout.recv_rows])
        doms = np.concatenate([layout.send_dom, layout.recv_dom])
        return rows, doms

    def _full(self) -> None:
        layout, programs = self.layout, self.programs
        ports = programs.ports
        n = max(len(programs.owners), 1)
        size = len(self.domains.of)
        rows, doms = self._entries()
        tenant = ports.owner[rows] != layout.provider
        consumer = (ports.flags[rows] & PortFlag.SERVICE_CONSUMER) != 0
        keys = np.unique(doms[tenant].astype(np.int64) * n + ports.owner[rows][tenant])
        self.cls_all = _classify(keys, n, size)
        open_ = tenant & ~consumer
        open_keys = np.unique(doms[open_].astype(np.int64) * n + ports.owner[rows][open_])
        self.cls_open = _classify(open_keys, n, size)
        shared = np.flatnonzero(self.cls_all == MANY)
        self._seed_census(shared, rows, doms, tenant)
        for domain in shared.tolist():
            self._domain(domain)
        self._direct_pairs = self._direct()
        for guest in self._suspect_guests(rows, doms, consumer):
            self._guest(guest)
        for router in self._suspect_routers(self.routes.legs):
            self._router(router)
        self.chains.examine_all(self._single_hop(), self.limit)

    def _single_hop(self) -> set[tuple[str, str]]:
        """Pairs a direct (one-forwarder) leak already joins."""
        groups = (*self.l2.values(), *self.bridged.values(), *self.routed.values())
        return {(leak.source, leak.target) for group in groups for leak in group}

    def _seed_census(
        self,
        shared: npt.NDArray[np.intp],
        rows: npt.NDArray[np.intp],
        doms: npt.NDArray[np.intp],
        tenant: npt.NDArray[np.bool_],
    ) -> None:
        """Census of the domains several tenants share, in bulk (they can be huge)."""
        if not len(shared):
            return
        mask = tenant & np.isin(doms, shared)
        nrows = max(len(self.programs.ports), 1)
        pair = np.unique(doms[mask].astype(np.int64) * nrows + rows[mask])
        dom_of_pair, row_of_pair = pair // nrows, pair % nrows
        owner = self.programs.ports.owner[row_of_pair]
        is_open = ~consumer_rows(self.programs, row_of_pair)
        for domain in shared.tolist():
            low, high = np.searchsorted(dom_of_pair, [domain, domain + 1])
            counts: Counter[int] = Counter(owner[low:high].tolist())
            opened: Counter[int] = Counter(owner[low:high][is_open[low:high]].tolist())
            self.layout.seed_census(domain, counts, opened)

    def _suspect_routers(self, routers: object) -> list[Ref]:
        """Routers whose domains hold two tenants."""
        found = []
        for router in routers:  # type: ignore[attr-defined]
            values = {int(self.cls_all[self.routes.dom(leg)]) for leg in self.routes.legs[router]}
            values.discard(NONE)
            if MANY in values or len(values) >= 2 or router in self.routed:
                found.append(router)
        return found

    def _suspect_guests(
        self,
        rows: npt.NDArray[np.intp],
        doms: npt.NDArray[np.intp],
        consumer: npt.NDArray[np.bool_],
    ) -> list[int]:
        """Guests whose domains hold two tenants (with the guest's owner)."""
        ports = self.programs.ports
        value = np.where(consumer, self.cls_open[doms], self.cls_all[doms])
        guests = ports.guest[rows].astype(np.int64)
        many = set(np.unique(guests[value == MANY]).tolist())
        live = self.programs.live_rows()
        tenant_rows = live[ports.owner[live] != self.layout.provider]
        g = np.concatenate([guests[value >= 0], ports.guest[tenant_rows].astype(np.int64)])
        v = np.concatenate([value[value >= 0], ports.owner[tenant_rows].astype(np.int64)])
        n = max(len(self.programs.owners), 1)
        pairs = np.unique(g * n + v)
        owners_per_guest = np.unique(pairs // n, return_counts=True)
        many.update(owners_per_guest[0][owners_per_guest[1] >= 2].tolist())
        return sorted(many)

    # ------------------------------------------------------------------ one suspect

    def _domain(self, domain: int) -> None:
        found = self.links.domain_leaks(domain, self.limit)
        if found:
            self.l2[domain] = found
        else:
            self.l2.pop(domain, None)

    def _direct(self) -> set[tuple[str, str]]:
        return {(leak.source, leak.target) for leaks in self.l2.values() for leak in leaks}

    def _guest(self, guest: int) -> None:
        if guest not in self.bridged and not self._two_tenants_near(guest):
            return
        found = self.links.guest_leaks(guest, self._direct_pairs, self.limit)
        if found:
            self.bridged[guest] = found
        else:
            self.bridged.pop(guest, None)

    def _two_tenants_near(self, guest: int) -> bool:
        """Whether a guest's domains (by their classification) hold two tenants, its owner
        counted: the per-domain arrays answer this without a census of each domain."""
        layout = self.layout
        near: set[int] = set()
        for row in layout.guest_ports(guest):
            if layout.is_tenant(row):
                near.add(layout.owner(row))
            table = self.cls_open if layout.is_consumer(row) else self.cls_all
            for domain in layout.member_of(row):
                value = int(table[domain])
                if value == MANY:
                    return True
                if value != NONE:
                    near.add(value)
        return len(near) >= 2

    def _router(self, router: Ref) -> None:
        found = self.routes.router_leaks(router, self.limit)
        if found:
            self.routed[router] = found
        else:
            self.routed.pop(router, None)

    # ------------------------------------------------------------------ changes

    def update(
        self, programs: Programs, delta: ProgramDelta | None = None, *, rows: object = ()
    ) -> Report:
        """Re-verify after a change: ``delta`` from ``recompile`` and/or the port ``rows`` whose
        columns changed (row ids shared with the previous programs). A full delta, or new
        segments or routers, re-verifies everything."""
        old = self.programs
        changed = sorted({int(r) for r in np.asarray(rows, np.intp).ravel().tolist()})
        if (
            (delta is not None and delta.full)
            or programs.segments is not old.segments
            or programs.routers is not old.routers
            or programs.owners != old.owners
        ):
            self.__init__(programs, self.facts, limit=self.limit)  # type: ignore[misc]
            return self.report()
        if not changed:
            # a policy change moves rows between chains only: L2, bridging and storage
            # depend on segments, owners and flags, so only routed counterexamples change
            self.layout.programs = programs
            if delta is None or not delta.is_empty:
                for router in list(self.routed):
                    self._router(router)
                # routed hops of chains pick their packet class by policy too
                self.chains.examine(list(self.chains.found), self._single_hop(), self.limit)
            return self.report()
        if self._tenants is not None:
            was = [r < len(old.ports) and bool(old.ports.live[r]) for r in changed]
            self._live += sum(bool(programs.ports.live[r]) for r in changed) - sum(was)
        touched = self.layout.update(programs, changed)
        guests = {int(programs.ports.guest[r]) for r in changed if programs.ports.live[r]}
        guests.update(int(old.ports.guest[r]) for r in changed if r < len(old.ports))
        routers: set[Ref] = set()
        for domain in touched:
            everyone, open_ports = self.layout.census(domain)
            before = (int(self.cls_all[domain]), int(self.cls_open[domain]))
            self.cls_all[domain] = _single(everyone)
            self.cls_open[domain] = _single(open_ports)
            if len(everyone) >= 2 or domain in self.l2:
                self._domain(domain)
            if before != (int(self.cls_all[domain]), int(self.cls_open[domain])):
                guests.update(int(programs.ports.guest[r]) for r in self.layout.receivers(domain))
                guests.update(int(programs.ports.guest[r]) for r in self.layout.senders(domain))
            routers.update(self.routes.by_domain.get(domain, ()))
        self._direct_pairs = self._direct()
        for guest in sorted(guests):
            self._guest(guest)
        for router in self._suspect_routers(sorted(routers)):
            self._router(router)
        roots = self.chains.note(r for r in changed if programs.ports.live[r])
        roots.update(self.chains.find(domain) for domain in touched)
        self.chains.examine(roots, self._single_hop(), self.limit)
        return self.report()

    # ------------------------------------------------------------------ the verdict

    def report(self) -> Report:
        """The current verdict."""
        leaks: list[Leak] = []
        seen: set[tuple[LeakKind, str, str]] = set()
        groups = (
            *self.l2.values(),
            *self.routed.values(),
            *self.bridged.values(),
            self.storage,
        )
        for group in groups:
            for leak in group:
                key = (leak.kind, leak.source, leak.target)
                if key not in seen:
                    seen.add(key)
                    leaks.append(leak)
        if self.chains.found:
            direct = self._single_hop()
            for group in self.chains.found.values():
                for leak in group:
                    key = (leak.kind, leak.source, leak.target)
                    if key not in seen and (leak.source, leak.target) not in direct:
                        seen.add(key)
                        leaks.append(leak)
        leaks.sort(key=lambda k: (k.source, k.target, k.kind))
        truncated = len(leaks) > self.limit
        if self._tenants is None:
            programs = self.programs
            self._tenants = tuple(
                o for i, o in enumerate(programs.owners) if i != self.layout.provider
            )
            self._live = int(programs.ports.live.sum())
        tenants = self._tenants
        stats = {
            "ports": self._live,
            "domains": self._domain_count,
            "merged_domains": len(self.domains.causes),
            "routers": len(self.routes.legs),
        }
        return Report(tenants, tuple(leaks[: self.limit]), truncated, stats)

    def wire_programs(self) -> Programs:
        """The programs as the wire enforces them, for replaying counterexamples."""
        return wire_programs(self.programs, self.domains)


def consumer_rows(programs: Programs, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of these rows are shared-service consumers."""
    found: npt.NDArray[np.bool_] = (programs.ports.flags[rows] & PortFlag.SERVICE_CONSUMER) != 0
    return found


def _single(counter: dict[int, int]) -> int:
    if not counter:
        return NONE
    if len(counter) == 1:
        return next(iter(counter))
    return MANY
