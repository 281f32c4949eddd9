"""The read side of the service: the snapshot (cached per store generation) and what an actor
may see of it."""

from __future__ import annotations

import threading

from tenantry.errors import NotFoundError, PermissionDeniedError
from tenantry.governance import Actor, Privilege, authorize, is_visible, may, scope_of
from tenantry.model import KIND_INFO, Estate, Kind, Model, Ref
from tenantry.store import Snapshot, Store

__all__ = ["EstateReads"]


class EstateReads:
    """Mixed into Service: snapshot, estate, list and get, filtered by visibility and RBAC."""

    store: Store
    _cached: Snapshot | None
    _cache_lock: threading.Lock

    def snapshot(self) -> Snapshot:
        """The stored estate (unfiltered: for backends and verification, not for users).

        Served from memory while the store's generation is unchanged: every write bumps it.
        """
        generation = self.store.generation()
        with self._cache_lock:
            cached = self._cached
        if cached is not None and cached.generation == generation:
            return cached
        loaded = self.store.load()
        with self._cache_lock:
            if self._cached is None or loaded.generation >= self._cached.generation:
                self._cached = loaded
        return loaded

    def estate(self, actor: Actor) -> Estate:
        """The part of the estate the actor may see."""
        if not actor.system and not actor.effective_authority().allows_somewhere(
            Privilege.INVENTORY_READ
        ):
            raise PermissionDeniedError(f"{actor} lacks {Privilege.INVENTORY_READ} anywhere")
        return _visible(actor, self.snapshot().estate)

    def list_revisions(self, actor: Actor, kind: Kind) -> list[tuple[Ref, Model, int]]:
        """Every object of a kind the actor may see, with its revision, sorted by reference."""
        if not actor.system and not actor.effective_authority().allows_somewhere(
            Privilege.INVENTORY_READ
        ):
            raise PermissionDeniedError(f"{actor} lacks {Privilege.INVENTORY_READ} anywhere")
        snapshot = self.snapshot()
        return sorted(
            (ref, obj, snapshot.revisions[(kind, ref)])
            for ref, obj in snapshot.estate.items(kind)
            if _readable(actor, kind, ref)
        )

    def list(self, actor: Actor, kind: Kind) -> list[tuple[Ref, Model]]:
        """Every object of a kind the actor may see, sorted by reference."""
        return [(ref, obj) for ref, obj, _ in self.list_revisions(actor, kind)]

    def get(self, actor: Actor, kind: Kind, ref: Ref) -> tuple[Model, int]:
        """One object and its revision; NotFoundError also when the actor may not see it.

        The checks do not depend on whether the object exists, so neither a refusal nor its
        timing tells another tenant that it does.
        """
        if not is_visible(actor, kind, ref):
            raise NotFoundError(f"{kind} {ref} not found")
        authorize(actor, Privilege.INVENTORY_READ, scope_of(kind, ref))
        snapshot = self.snapshot()
        obj = snapshot.estate.get(kind, ref)
        if obj is None:
            raise NotFoundError(f"{kind} {ref} not found")
        return obj, snapshot.revisions[(kind, ref)]


def _readable(actor: Actor, kind: Kind, ref: Ref) -> bool:
    return is_visible(actor, kind, ref) and may(
        actor, Privilege.INVENTORY_READ, scope_of(kind, ref)
    )


def _visible(actor: Actor, estate: Estate) -> Estate:
    if actor.system:
        return estate
    return Estate.build(
        (kind, ref, obj)
        for kind in KIND_INFO
        for ref, obj in estate.items(kind)
        if _readable(actor, kind, ref)
    )
