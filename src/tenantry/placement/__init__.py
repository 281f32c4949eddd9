"""Resources and placement: capacity rules and host choice."""

from tenantry.placement.capacity import check_capacity, host_demand
from tenantry.placement.scheduler import candidate_hosts, place

__all__ = ["candidate_hosts", "check_capacity", "host_demand", "place"]
