"""The reference backend: in-process, no root, no daemons; the executable semantics."""

from tenantry.dataplane.reference.backend import ReferenceBackend
from tenantry.dataplane.reference.conntrack import ConnTrack

__all__ = ["ConnTrack", "ReferenceBackend"]
