"""The policy compiler: an estate to per-host programs (the IR every backend enforces).

``compile_estate`` compiles everything; ``recompile`` compiles only what a change touches and
returns the delta. The IR is described in ``tenantry.compiler.program``.
"""

from tenantry.compiler.addresses import PrefixSet, format_mac, mac_int
from tenantry.compiler.compile import compile_estate
from tenantry.compiler.delta import ProgramDelta, recompile
from tenantry.compiler.program import (
    ANY_PROTOCOL,
    AddressSet,
    AddressSetKey,
    Chain,
    CompiledPeer,
    CompiledPolicy,
    CompiledRule,
    PeerKind,
    PortFlag,
    PortKind,
    PortTable,
    Programs,
    RouterInterface,
    RuleOrigin,
    Segment,
    SegmentKind,
    VlanModeCode,
)

__all__ = [
    "ANY_PROTOCOL",
    "AddressSet",
    "AddressSetKey",
    "Chain",
    "CompiledPeer",
    "CompiledPolicy",
    "CompiledRule",
    "PeerKind",
    "PortFlag",
    "PortKind",
    "PortTable",
    "PrefixSet",
    "ProgramDelta",
    "Programs",
    "RouterInterface",
    "RuleOrigin",
    "Segment",
    "SegmentKind",
    "VlanModeCode",
    "compile_estate",
    "format_mac",
    "mac_int",
    "recompile",
]
