"""State shared by the commands of one invocation: options, the service, the consoles."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console

from tenantry.governance import Actor
from tenantry.service import Service
from tenantry.settings import Settings

__all__ = ["CliState", "state"]


@dataclass
class CliState:
    """Global options, and the service opened on first use."""

    store: str | None = None
    verbose: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(
        default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True)
    )
    _service: Service | None = None

    def store_url(self) -> str:
        return self.store or Settings().store_url()

    def service(self) -> Service:
        """The service over the chosen store (opened once)."""
        if self._service is None:
            self._service = Service.open(self.store_url())
        return self._service

    def actor(self) -> Actor:
        """Who this invocation acts as: the local operator."""
        return Actor.local_operator()

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None


state = CliState()
