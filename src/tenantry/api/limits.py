"""Request limits: a token bucket per credential domain or address, and a body-size cap.

A tenant that floods the API gets 429s from its own bucket while other tenants keep theirs
(THREATS row 30); login attempts are metered per source address before any password is
hashed, so a flood of logins cannot burn the server's CPU.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.api.problems import problem_response
from tenantry.errors import RateLimitedError, RequestTooLargeError

__all__ = ["BodySizeLimit", "RateLimiter"]


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets keyed by a name: ``rate`` per second, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key: str, what: str) -> None:
        """Spend one token of ``key``'s bucket, or raise RateLimitedError."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_keys:
                    self._buckets.clear()  # bounded memory; buckets refill anyway
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens < 1.0:
                wait = (1.0 - bucket.tokens) / self.rate
                raise RateLimitedError(f"{what} sent too many requests", retry_after=wait)
            bucket.tokens -= 1.0


class BodySizeLimit:
    """ASGI middleware refusing bodies over ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                # Answered here, before the body is read: this middleware sits outside the
                # exception handlers, so it builds the problem document itself.
                response = problem_response(
                    Request(scope),
                    status=RequestTooLargeError.http_status,
                    code=RequestTooLargeError.code,
                    title="Request too large",
                    detail=f"the body is {int(value)} bytes; at most {self.limit}",
                    hint=RequestTooLargeError.hint,
                )
                await response(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise RequestTooLargeError(f"the body exceeds {self.limit} bytes")
            return message

        await self.app(scope, limited, send)
