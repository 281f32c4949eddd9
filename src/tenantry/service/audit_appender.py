"""Group commit: many audit records per transaction, with one signed head per batch."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from tenantry.audit import AuditRecord, SignedTreeHead
from tenantry.store import Store

__all__ = ["AuditAppender"]


class AuditAppender:
    """Buffers records and writes each batch in one transaction with one signed head.

    Records are durable only once ``flush`` returns (or the ``with`` block ends); use it for
    bulk events, and ``Service.record`` for an event that must be durable before going on.
    """

    def __init__(
        self,
        store: Store,
        sign: Callable[[int, bytes], SignedTreeHead],
        *,
        batch_size: int = 10_000,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self._store = store
        self._sign = sign
        self._batch_size = batch_size
        self._pending: list[AuditRecord] = []
        self.head: SignedTreeHead | None = None
        """The head signed by the last flush."""

    def add(self, record: AuditRecord) -> None:
        """Buffer a record; a full buffer is written at once."""
        self._pending.append(record)
        if len(self._pending) >= self._batch_size:
            self.flush()

    def flush(self) -> SignedTreeHead | None:
        """Write the buffered records (one transaction, one signed head); returns that head."""
        if not self._pending:
            return self.head
        batch, self._pending = self._pending, []
        try:
            self.head = self._store.append_audit(batch, sign=self._sign)
        except BaseException:
            self._pending = batch + self._pending
            raise
        return self.head

    def __enter__(self) -> AuditAppender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.flush()
