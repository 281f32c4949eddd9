"""The Open vSwitch/OVN backend, driven through the Northbound database with ovsdbapp.

``OvnDeployment`` starts OVS/OVN daemons under a run directory (central databases, northd,
chassis in their own namespaces joined by a fabric). ``OvnBackend`` is the Backend: programs
to Northbound rows (``translate``), reconciled in one transaction with ownership in
``external_ids`` (``nb``, ``sync``), read back into programs (``readback``), and classified by
ovn-trace (``trace``). ``Reconciler`` repairs hand edits as the database reports them.
``ChassisPorts`` plugs guest devices into a chassis' ``br-int``.
"""

from tenantry.dataplane.ovn.backend import OvnBackend
from tenantry.dataplane.ovn.chassis import INTEGRATION_BRIDGE, ChassisPorts
from tenantry.dataplane.ovn.deployment import PROVIDER_BRIDGE, ChassisConfig, OvnDeployment
from tenantry.dataplane.ovn.nb import DEFAULT_OWNER, NorthboundClient
from tenantry.dataplane.ovn.reconciler import Reconciler, Repair
from tenantry.dataplane.ovn.rows import Change, ChangeKind
from tenantry.dataplane.ovn.trace import OvnTracer
from tenantry.dataplane.ovn.translate import GLOBAL_OPTIONS, desired_rows

__all__ = [
    "DEFAULT_OWNER",
    "GLOBAL_OPTIONS",
    "INTEGRATION_BRIDGE",
    "PROVIDER_BRIDGE",
    "Change",
    "ChangeKind",
    "ChassisConfig",
    "ChassisPorts",
    "NorthboundClient",
    "OvnBackend",
    "OvnDeployment",
    "OvnTracer",
    "Reconciler",
    "Repair",
    "desired_rows",
]
