"""Programs to Northbound rows: the whole desired state (pure; no database access).

Logical switches, ports, routers and QoS come from ``switches``; policy port groups, ACLs and
address sets from ``policies``; guard port groups, segment defaults, shaping groups and the
log meter from ``policies.infrastructure_rows``. ``GLOBAL_OPTIONS`` are the ``NB_Global``
options tenantry insists on.
"""

from __future__ import annotations

from collections.abc import Mapping

from tenantry.compiler import Programs
from tenantry.dataplane.ovn.policies import infrastructure_rows, policy_rows
from tenantry.dataplane.ovn.rows import Row
from tenantry.dataplane.ovn.switches import switch_rows

__all__ = ["GLOBAL_OPTIONS", "desired_rows"]

GLOBAL_OPTIONS = {"default_acl_drop": "true"}
"""Everything no ACL allows is dropped (OVN's default is to allow)."""


def desired_rows(programs: Programs, chassis_of_host: Mapping[str, str] | None) -> list[Row]:
    """Every Northbound root row (with its children) that enforces the programs."""
    return [
        *switch_rows(programs, chassis_of_host),
        *policy_rows(programs),
        *infrastructure_rows(programs),
    ]
