"""Enforcement backends and what they share: the Backend contract, verdicts, frames.

``reference`` is the in-process backend (the executable definition of docs/semantics.md);
``ovn`` drives Open vSwitch/OVN; ``lab`` runs guests in network namespaces.
"""

from tenantry.dataplane import packets
from tenantry.dataplane.backend import Backend
from tenantry.dataplane.frames import Arp, Dhcp, Frame, IpHeader, Nd, Transport, decode
from tenantry.dataplane.verdict import Disposition, Reason, Stage, TraceStep, Verdict

__all__ = [
    "Arp",
    "Backend",
    "Dhcp",
    "Disposition",
    "Frame",
    "IpHeader",
    "Nd",
    "Reason",
    "Stage",
    "TraceStep",
    "Transport",
    "Verdict",
    "decode",
    "packets",
]
