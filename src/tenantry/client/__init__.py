"""A Python client of the tenantry REST API (httpx); errors come back as ``tenantry.errors``."""

from tenantry.client.client import Client
from tenantry.client.problems import error_from_problem

__all__ = ["Client", "error_from_problem"]
