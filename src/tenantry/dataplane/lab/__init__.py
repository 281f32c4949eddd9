"""Lab guests in network namespaces (pyroute2), and attacks sent from them (scapy).

``Lab`` builds guests from a ``LabPlan`` (``plan_lab`` makes one from compiled programs) and
removes exactly what it built; a ``Hypervisor`` plugs their vNICs into a chassis.
"""

from tenantry.dataplane.lab.build import plan_lab
from tenantry.dataplane.lab.guests import GuestRecord, Lab, NicRecord
from tenantry.dataplane.lab.plan import GuestPlan, Hypervisor, LabPlan, NicPlan, VlanPlan

__all__ = [
    "GuestPlan",
    "GuestRecord",
    "Hypervisor",
    "Lab",
    "LabPlan",
    "NicPlan",
    "NicRecord",
    "VlanPlan",
    "plan_lab",
]
