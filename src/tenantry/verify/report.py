"""The verdict: leaks between tenants with counterexamples, the isolation matrix, and diffs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tenantry.verify.counterexample import Counterexample

__all__ = ["Leak", "LeakKind", "Reach", "Report", "diff_reports"]

FULL_MATRIX_TENANTS = 50
"""Up to this many tenants the report shows the whole matrix; beyond, only non-isolated pairs."""


class LeakKind(StrEnum):
    """How something crosses from one tenant to another."""

    L2 = "l2"
    """Ports of both tenants in one broadcast domain (shared segment, trunk, management
    network, merged VLAN or overlay keys, a shared-service segment without isolation)."""
    ROUTED = "routed"
    """A router with interfaces in domains of both tenants forwards between them."""
    BRIDGED = "bridged"
    """A guest with vNICs reaching both tenants can forward between them."""
    CHAINED = "chained"
    """A path of several forwarders (guests that bridge, routers) carries frames from one
    tenant to another where no single one touches both."""
    STORAGE = "storage"
    """A host running one tenant's guests sees a LUN holding the other tenant's disks."""


@dataclass(frozen=True, slots=True)
class Leak:
    """Something of ``source`` reaches ``target``; ``cause`` says why, with a counterexample."""

    kind: LeakKind
    source: str
    target: str
    cause: str
    counterexample: Counterexample

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": str(self.kind),
            "from": self.source,
            "to": self.target,
            "cause": self.cause,
            "counterexample": self.counterexample.to_dict(),
        }

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} [{self.kind}]: {self.cause}\n{self.counterexample}"


@dataclass(frozen=True)
class Report:
    """The isolation proof of an estate: isolated when ``leaks`` is empty."""

    tenants: tuple[str, ...]
    leaks: tuple[Leak, ...]
    truncated: bool = False
    """More leaking pairs exist than were reported (the limit was reached)."""
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def isolated(self) -> bool:
        return not self.leaks

    @property
    def exit_code(self) -> int:
        """0 when every pair is isolated, 1 when a leak exists (like ``diff``)."""
        return 0 if self.isolated else 1

    def pairs(self) -> dict[tuple[str, str], tuple[LeakKind, ...]]:
        """Non-isolated (source, target) pairs and how they leak."""
        found: dict[tuple[str, str], set[LeakKind]] = {}
        for leak in self.leaks:
            found.setdefault((leak.source, leak.target), set()).add(leak.kind)
        return {pair: tuple(sorted(kinds)) for pair, kinds in sorted(found.items())}

    def matrix(self) -> list[list[str]]:
        """The full matrix (rows: source, columns: target): '' isolated, else the leak kinds."""
        pairs = self.pairs()
        return [
            ["-" if a == b else ",".join(pairs.get((a, b), ())) for b in self.tenants]
            for a in self.tenants
        ]

    def to_dict(self, *, full_matrix: bool | None = None) -> dict[str, object]:
        """A JSON-ready form; the matrix is included for small estates or when asked."""
        show = len(self.tenants) <= FULL_MATRIX_TENANTS if full_matrix is None else full_matrix
        out: dict[str, object] = {
            "isolated": self.isolated,
            "tenants": len(self.tenants),
            "leaking_pairs": len(self.pairs()),
            "truncated": self.truncated,
            "pairs": [
                {"from": a, "to": b, "kinds": [str(k) for k in kinds]}
                for (a, b), kinds in self.pairs().items()
            ],
            "leaks": [leak.to_dict() for leak in self.leaks],
            "stats": dict(self.stats),
        }
        if show:
            out["matrix"] = {"tenants": list(self.tenants), "rows": self.matrix()}
        return out

    def summary(self) -> str:
        """One line: isolated, or how many pairs leak."""
        if self.isolated:
            return f"isolated: no path between any two of {len(self.tenants)} tenants"
        more = " (more not shown)" if self.truncated else ""
        return (
            f"NOT isolated: {len(self.pairs())} tenant pair(s) leak, {len(self.leaks)} "
            f"counterexample(s){more}"
        )


@dataclass(frozen=True)
class Reach:
    """Connectivity a change adds and removes, per (source, target) tenant pair."""

    added: dict[tuple[str, str], tuple[LeakKind, ...]]
    removed: dict[tuple[str, str], tuple[LeakKind, ...]]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed)

    def to_dict(self) -> dict[str, object]:
        def rows(found: dict[tuple[str, str], tuple[LeakKind, ...]]) -> list[dict[str, object]]:
            return [
                {"from": a, "to": b, "kinds": [str(k) for k in k_]} for (a, b), k_ in found.items()
            ]

        return {"added": rows(self.added), "removed": rows(self.removed)}


def diff_reports(before: Report, after: Report) -> Reach:
    """What ``after`` can reach that ``before`` could not, and the reverse (kinds per pair)."""
    old, new = before.pairs(), after.pairs()
    added: dict[tuple[str, str], tuple[LeakKind, ...]] = {}
    removed: dict[tuple[str, str], tuple[LeakKind, ...]] = {}
    for pair in sorted(set(old) | set(new)):
        gained = tuple(k for k in new.get(pair, ()) if k not in old.get(pair, ()))
        lost = tuple(k for k in old.get(pair, ()) if k not in new.get(pair, ()))
        if gained:
            added[pair] = gained
        if lost:
            removed[pair] = lost
    return Reach(added, removed)
