"""Searching one component of forwarders for concrete paths between its tenants.

Breadth-first from every port of one tenant's guests: a frame a port sends into a domain is
delivered to the domain's receivers (consumers only to open ports), a router on the domain
routes it to any port holding an address on its other legs, and a guest that receives it may
send from any of its vNICs. The first arrival at each other tenant gives the hops of its
counterexample, built only for the paths kept.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from tenantry.model import Ref
from tenantry.verify._layout import Layout
from tenantry.verify._links import LinkFinder
from tenantry.verify._routing import RouteFinder
from tenantry.verify.counterexample import Counterexample, Hop
from tenantry.verify.report import Leak, LeakKind

__all__ = ["PathSearch"]

State = tuple[int, int]
"""(domain, sending port): a frame that port can put into that domain."""
Recipe = tuple[object, ...]
"""How to build one hop when a path is kept: ("l2", s, r, d) or ("routed", router, d, s, pick)."""


class PathSearch:
    """Components and chained paths, over the forwarders a ``ChainFinder`` keeps."""

    def __init__(
        self,
        layout: Layout,
        links: LinkFinder,
        routes: RouteFinder,
        hub: npt.NDArray[np.bool_],
        endpoints: set[int],
    ) -> None:
        self.layout = layout
        self.links = links
        self.routes = routes
        self.hub = hub
        """Shared with the ChainFinder, which marks new hubs in place."""
        self.endpoints = endpoints

    def eligible(self, row: int, domain: int) -> bool:
        """Whether a port joins its domain for forwarding: open, or a consumer in a hub."""
        return not self.layout.is_consumer(row) or bool(self.hub[domain])

    def forwards(self, guest: int) -> bool:
        """Every guest forwards between its vNICs except a declared service endpoint."""
        return guest not in self.endpoints

    def component(self, root: int) -> tuple[list[int], set[int]]:
        """(domains, tenants present) of the component found from ``root`` by exploring."""
        layout = self.layout
        seen, stack, guests = {root}, [root], set()
        tenants: set[int] = set()
        while stack:
            domain = stack.pop()
            for row in dict.fromkeys(layout.senders(domain) + layout.receivers(domain)):
                eligible = self.eligible(row, domain)
                if layout.is_tenant(row) and eligible:
                    tenants.add(layout.owner(row))
                guest = int(layout.programs.ports.guest[row])
                if guest in guests or not eligible or not self.forwards(guest):
                    continue
                guests.add(guest)
                for port in layout.guest_ports(guest):
                    for other in layout.member_of(port):
                        if other not in seen and self.eligible(port, other):
                            seen.add(other)
                            stack.append(other)
            for router in self.routes.by_domain.get(domain, ()):
                for leg in self.routes.legs[router]:
                    other = self.routes.dom(leg)
                    if other not in seen:
                        seen.add(other)
                        stack.append(other)
        return sorted(seen), tenants

    def leaks(
        self, domains: list[int], tenants: set[int], direct: set[tuple[str, str]], limit: int
    ) -> list[Leak]:
        """Chained leaks between the tenants of one component (pairs in ``direct`` skipped)."""
        owners = self.layout.programs.owners
        leaks: list[Leak] = []
        targets: dict[Ref, list[tuple[object, int, int]]] = {}
        for a in sorted(tenants):
            wanted = {b for b in tenants if b != a and (owners[a], owners[b]) not in direct}
            if not wanted:
                continue
            for b, recipes in sorted(self._search(a, domains, wanted, targets).items()):
                if len(recipes) < 2:
                    continue  # one hop: a direct leak, reported by its own finder
                hops = tuple(self._build(recipe) for recipe in recipes)
                via = [p for hop in hops for p in hop.path if p.startswith(("router ", "guest "))]
                via += [f"guest {self._guest_of(hop.receiver)}" for hop in hops[:-1]]
                names = ", ".join(dict.fromkeys(via))
                cause = (
                    f"a chain of forwarders carries {owners[a]}'s frames to {owners[b]}: {names}"
                )
                example = Counterexample(
                    hops,
                    f"{hops[0].sender} reaches {hops[-1].receiver} in {len(hops)} hops, each "
                    "guest on the way forwarding between its vNICs",
                )
                leaks.append(Leak(LeakKind.CHAINED, owners[a], owners[b], cause, example))
                if len(leaks) >= limit:
                    return leaks
        return leaks

    def _guest_of(self, port_name: str) -> str:
        row = self.layout.programs.port_row(port_name)
        return (
            "?"
            if row is None
            else str(self.layout.programs.guests[self.layout.programs.ports.guest[row]])
        )

    def _search(
        self,
        a: int,
        domains: list[int],
        wanted: set[int],
        targets: dict[Ref, list[tuple[object, int, int]]],
    ) -> dict[int, list[Recipe]]:
        """Breadth-first from every port of ``a``'s guests: the hops to each wanted tenant."""
        layout = self.layout
        ports = layout.programs.ports
        parent: dict[State, tuple[State | None, Recipe | None]] = {}
        queue: deque[State] = deque()
        visited: set[int] = set()
        for domain in domains:
            for row in layout.senders(domain):
                if layout.is_tenant(row) and layout.owner(row) == a:
                    visited.add(int(ports.guest[row]))
        for guest in sorted(visited):
            for port in layout.guest_ports(guest):
                for domain in layout.sends(port):
                    if (domain, port) not in parent:
                        parent[(domain, port)] = (None, None)
                        queue.append((domain, port))
        reached: dict[int, tuple[State, Recipe]] = {}

        def arrive(state: State, recipe: Recipe, row: int) -> None:
            if layout.is_tenant(row) and layout.owner(row) in wanted:
                reached.setdefault(layout.owner(row), (state, recipe))
            guest = int(ports.guest[row])
            if guest in visited or not self.forwards(guest):
                return
            visited.add(guest)
            for port in layout.guest_ports(guest):
                for domain in layout.sends(port):
                    if (domain, port) not in parent:
                        parent[(domain, port)] = (state, recipe)
                        queue.append((domain, port))

        while queue and len(reached) < len(wanted):
            state = queue.popleft()
            domain, sender = state
            consumer = layout.is_consumer(sender)
            for row in layout.receivers(domain):
                if row != sender and not (consumer and layout.is_consumer(row)):
                    arrive(state, ("l2", sender, row, domain), row)
            if consumer:
                continue
            for router in sorted(self.routes.by_domain.get(domain, ()), key=str):
                if router not in targets:
                    targets[router] = list(self.routes.reachable(router))
                for address, out, row in targets[router]:
                    if out != domain and (domain, address) not in self.routes.gateways:
                        arrive(state, ("routed", router, domain, sender, (address, out, row)), row)
        paths: dict[int, list[Recipe]] = {}
        for b, (state, last) in reached.items():
            recipes = [last]
            at: State | None = state
            while at is not None:
                before, recipe = parent[at]
                if recipe is not None:
                    recipes.append(recipe)
                at = before
            paths[b] = recipes[::-1]
        return paths

    def _build(self, recipe: Recipe) -> Hop:
        if recipe[0] == "l2":
            _, sender, receiver, domain = recipe
            return self.links.hop(int(sender), int(receiver), int(domain))  # type: ignore[call-overload]
        _, router, domain, sender, pick = recipe
        leg = next(g for g in self.routes.legs[router] if self.routes.dom(g) == domain)  # type: ignore[index]
        return self.routes.hop(router, leg, int(domain), int(sender), pick)  # type: ignore[arg-type,call-overload]
