"""Operations refused while the audit log could not be written (THREATS row 41).

Fail closed leaves a hole in the trail where refused operations would have been: the first
write after the outage starts with an ``audit.unavailable`` entry saying when it began and
ended and how many operations were refused, so that no gap goes unrecorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import AuditUnavailableError

__all__ = ["AuditOutage"]


@dataclass
class _Gap:
    since: datetime
    until: datetime
    refused: int
    reason: str


class AuditOutage:
    """Remembers an ongoing outage and reports it with the next write."""

    def __init__(self) -> None:
        self._gap: _Gap | None = None

    def refused(self, exc: AuditUnavailableError) -> None:
        """One more operation refused because the log could not be written."""
        now = datetime.now(UTC)
        if self._gap is None:
            self._gap = _Gap(since=now, until=now, refused=0, reason=exc.message)
        self._gap.until = now
        self._gap.refused += 1

    def reported(self, records: Sequence[AuditRecord]) -> list[AuditRecord]:
        """The records to write, preceded by the outage's entry if one is pending."""
        if self._gap is None:
            return list(records)
        gap = self._gap
        marker = AuditRecord(
            actor="tenantry",
            action="audit.unavailable",
            outcome=Outcome.FAILED,
            reason=gap.reason,
            details={
                "since": gap.since.isoformat(timespec="microseconds"),
                "until": gap.until.isoformat(timespec="microseconds"),
                "operations_refused": gap.refused,
            },
        )
        return [marker, *records]

    def over(self) -> None:
        """The pending entry was written with the last records."""
        self._gap = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around one write of records obtained from ``reported``: an outage is counted, a
        success ends it."""
        try:
            yield
        except AuditUnavailableError as exc:
            self.refused(exc)
            raise
        self.over()
