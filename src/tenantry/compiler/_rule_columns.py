"""Compiled rules stored as numpy columns, with :class:`CompiledRule` objects made on demand.

A full compile writes every rule of every policy here instead of building one object per rule
(320,000 rules at seed scale): a rule is 13 bytes of columns plus its share of the interned
peers and port sets. ``CompiledPolicy.rules`` builds the rule objects of one policy when asked
(they are equal, field for field, to what a compile that built objects would hold). Only the
last ``RECENT`` policies built are kept, so that readers walking the same chains port after
port (the verifier, the OVN translation) do not rebuild them each time, while memory stays
that of the columns plus that bound. Policies recompiled incrementally hold a tuple of rule
objects instead (see ``CompiledPolicy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from tenantry.compiler.program import CompiledPeer, CompiledRule, PeerKind, RuleOrigin
from tenantry.model import Action, Direction, IpNetwork

if TYPE_CHECKING:
    from tenantry.compiler.program import CompiledPolicy

__all__ = ["RECENT", "RuleColumns"]

RECENT = 1024
"""How many policies' rule objects are kept once built."""

_A = TypeVar("_A", bound=npt.NDArray[Any])

_ACTIONS = tuple(Action)
_ACTION_CODES = {action: code for code, action in enumerate(_ACTIONS)}
_DIRECTIONS = tuple(Direction)
_DIRECTION_CODES = {direction: code for code, direction in enumerate(_DIRECTIONS)}


class RuleColumns:
    """The rules of a compile's policies, policy after policy (CSR by policy id)."""

    __slots__ = (
        "_building",
        "_peer_ids",
        "_port_set_ids",
        "_recent",
        "_starts",
        "action",
        "direction",
        "log",
        "offsets",
        "peer",
        "peers",
        "port_set",
        "port_sets",
        "protocol",
    )

    def __init__(self) -> None:
        self._building: tuple[list[int], ...] | None = ([], [], [], [], [], [])
        self._peer_ids: dict[tuple[PeerKind, int, str | None, IpNetwork | None], int] = {}
        self._port_set_ids: dict[tuple[tuple[int, int], ...], int] = {}
        self._starts: list[int] = [0]
        self._recent: dict[int, tuple[CompiledRule, ...]] = {}
        self.peers: tuple[CompiledPeer, ...] = ()
        self.port_sets: tuple[tuple[tuple[int, int], ...], ...] = ()

    # the building state lives in the instance only until ``finish`` (slots keep it small)
    _peer_ids: dict[tuple[PeerKind, int, str | None, IpNetwork | None], int]
    _port_set_ids: dict[tuple[tuple[int, int], ...], int]
    _starts: list[int]
    offsets: npt.NDArray[np.int32]
    action: npt.NDArray[np.uint8]
    direction: npt.NDArray[np.uint8]
    protocol: npt.NDArray[np.int16]
    log: npt.NDArray[np.bool_]
    peer: npt.NDArray[np.int32]
    port_set: npt.NDArray[np.int32]

    def add(  # noqa: PLR0917 - positional on purpose: once per rule, 320,000 times
        self,
        action: Action,
        direction: Direction,
        protocol: int,
        ports: tuple[tuple[int, int], ...],
        peer: tuple[PeerKind, int, str | None, IpNetwork | None],
        log: bool,
    ) -> None:
        """Append one rule to the policy being compiled; ``peer`` is (kind, address set,
        service, CIDR) as in :class:`CompiledPeer`."""
        assert self._building is not None  # noqa: S101 - add after finish is a compiler bug
        actions, directions, protocols, logs, peers, port_sets = self._building
        actions.append(_ACTION_CODES[action])
        directions.append(_DIRECTION_CODES[direction])
        protocols.append(protocol)
        logs.append(log)
        peer_id = self._peer_ids.get(peer)
        if peer_id is None:
            peer_id = self._peer_ids[peer] = len(self._peer_ids)
        peers.append(peer_id)
        port_set = self._port_set_ids.get(ports)
        if port_set is None:
            port_set = self._port_set_ids[ports] = len(self._port_set_ids)
        port_sets.append(port_set)

    def end_policy(self, policy_id: int) -> None:
        """Close the rules of policy ``policy_id`` (ids come in order, from 0, no gaps)."""
        assert self._building is not None  # noqa: S101
        assert policy_id == len(self._starts) - 1  # noqa: S101
        self._starts.append(len(self._building[0]))

    def finish(self) -> None:
        """Turn the lists into columns; the table is read-only from here on."""
        assert self._building is not None  # noqa: S101
        actions, directions, protocols, logs, peers, port_sets = self._building
        self.offsets = _frozen(np.array(self._starts, np.int32))
        self.action = _frozen(np.array(actions, np.uint8))
        self.direction = _frozen(np.array(directions, np.uint8))
        self.protocol = _frozen(np.array(protocols, np.int16))
        self.log = _frozen(np.array(logs, np.bool_))
        self.peer = _frozen(np.array(peers, np.int32))
        self.port_set = _frozen(np.array(port_sets, np.int32))
        self.peers = tuple(
            CompiledPeer(kind, () if cidr is None else (cidr,), address_set, service)
            for kind, address_set, service, cidr in self._peer_ids
        )
        self.port_sets = tuple(self._port_set_ids)
        self._building = None
        del self._peer_ids, self._port_set_ids, self._starts

    # ------------------------------------------------------------------ reading

    def count(self, policy_id: int) -> int:
        """How many rules policy ``policy_id`` has."""
        return int(self.offsets[policy_id + 1] - self.offsets[policy_id])

    def rules_of(self, policy: CompiledPolicy) -> tuple[CompiledRule, ...]:
        """The rule objects of ``policy`` (built on first use; the last ``RECENT`` are kept)."""
        found = self._recent.get(policy.id)
        if found is None:
            if len(self._recent) >= RECENT:
                self._recent.clear()
            found = self._recent[policy.id] = self._build(policy)
        return found

    def _build(self, policy: CompiledPolicy) -> tuple[CompiledRule, ...]:
        start, end = int(self.offsets[policy.id]), int(self.offsets[policy.id + 1])
        if start == end:
            return ()
        peers, port_sets = self.peers, self.port_sets
        ref, tier = policy.ref, policy.tier
        return tuple(
            CompiledRule(
                origin=RuleOrigin(ref, index),
                tier=tier,
                action=_ACTIONS[action],
                direction=_DIRECTIONS[direction],
                protocol=protocol,
                ports=port_sets[port_set],
                peer=peers[peer],
                log=log,
            )
            for index, (action, direction, protocol, port_set, peer, log) in enumerate(
                zip(
                    self.action[start:end].tolist(),
                    self.direction[start:end].tolist(),
                    self.protocol[start:end].tolist(),
                    self.port_set[start:end].tolist(),
                    self.peer[start:end].tolist(),
                    self.log[start:end].tolist(),
                    strict=True,
                )
            )
        )


def _frozen(array: _A) -> _A:
    array.flags.writeable = False
    return array
