"""Proofs of isolation over what is actually enforced, with counterexample packets.

``verify(programs, facts)`` takes the programs a data plane enforces (compiled, or read back
from OVN) and the physical facts no data plane holds (``physical_facts(estate)``: shared
uplinks, LUN masking, disk and guest placement), and returns a :class:`Report`: every pair of
tenants between which a frame, packet or disk crosses, each with a counterexample.
``IsolationState`` keeps the proof and re-verifies only what a change touches.
"""

from tenantry.verify.counterexample import Counterexample, Hop
from tenantry.verify.domains import Domains, map_domains, wire_programs
from tenantry.verify.facts import DatastoreFact, PhysicalFacts, UplinkBridge, physical_facts
from tenantry.verify.report import Leak, LeakKind, Reach, Report, diff_reports
from tenantry.verify.state import DEFAULT_LIMIT, IsolationState, verify

__all__ = [
    "DEFAULT_LIMIT",
    "Counterexample",
    "DatastoreFact",
    "Domains",
    "Hop",
    "IsolationState",
    "Leak",
    "LeakKind",
    "PhysicalFacts",
    "Reach",
    "Report",
    "UplinkBridge",
    "diff_reports",
    "map_domains",
    "physical_facts",
    "verify",
    "wire_programs",
]
