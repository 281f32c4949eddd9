"""Who may do what: actors, tenant boundaries, and provider-owned fields."""

from tenantry.governance.actor import Actor
from tenantry.governance.boundaries import TENANT_TASKS, check_change, is_visible

__all__ = ["TENANT_TASKS", "Actor", "check_change", "is_visible"]
