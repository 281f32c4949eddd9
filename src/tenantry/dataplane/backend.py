"""The contract every enforcement backend implements (reference, OVN, lab)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tenantry.compiler import ProgramDelta, Programs

__all__ = ["Backend"]


@runtime_checkable
class Backend(Protocol):
    """Enforces compiled programs and can say what it actually enforces."""

    name: str

    def apply(self, programs: Programs, delta: ProgramDelta | None = None) -> None:
        """Enforce ``programs``; ``delta`` (from ``recompile``) lets a backend patch instead of
        resync. Raises BackendUnavailableError when the data plane cannot be reached."""
        ...

    def read_back(self) -> Programs:
        """What is enforced right now, in the IR, so verification checks the real thing."""
        ...

    def close(self) -> None:
        """Release connections and resources."""
        ...
