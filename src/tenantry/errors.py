"""Every error tenantry raises across a package boundary.

Each class carries its own stable ``code``, CLI ``exit_code`` and ``http_status`` as class
variables: ``cli`` and ``api`` read them and keep no table of their own. ``str(err)`` says what
is wrong and where; ``diagnostics()`` says what to do about it. Messages never carry secrets.

    TenantryError                                   code                    exit  HTTP
    ├── InputError                                  input.invalid              3   422
    │   ├── SpecError (path, line, column)          spec.invalid               3   422
    │   ├── FrameError (offset)                     frame.invalid              3   422
    │   ├── CaptureError                            capture.invalid            3   422
    │   ├── KeyMaterialError                        key.invalid                3   422
    │   ├── PreconditionRequiredError               precondition.required      3   428
    │   └── RequestTooLargeError                    input.too_large            3   413
    ├── NotFoundError                               not_found                  4   404
    ├── ConflictError                               conflict                   5   409
    │   ├── StaleRevisionError                      conflict.stale             5   409
    │   └── IdempotencyConflictError                conflict.idempotency       5   409
    ├── AccessError                                 access                     6   403
    │   ├── AuthenticationError                     auth.required              6   401
    │   ├── PermissionDeniedError                   auth.denied                6   403
    │   ├── ThrottledError                          auth.throttled             6   429
    │   │   └── RateLimitedError                    auth.rate_limited          6   429
    │   ├── DirectoryHostRefusedError               auth.directory_host        6   403
    │   └── ApprovalRequiredError (approval_id)     approval.required          7   202
    ├── AdmissionError (violations)                 admission.refused          8   422
    │   ├── IsolationViolationError                 admission.isolation        8   422
    │   ├── CapacityError                           admission.capacity         8   422
    │   ├── QuotaExceededError                      admission.quota            8   429
    │   └── AttestationError                        admission.attestation      8   422
    ├── IntegrityError family
    │   ├── AuditIntegrityError                     audit.integrity            1   500
    │   ├── DataIntegrityError                      data.integrity             1   500
    │   └── EnforcementDriftError                   dataplane.drift            1   500
    ├── CryptoError                                 crypto.refused            10   403
    │   └── KeyRevokedError                         crypto.revoked            10   410
    └── UnavailableError                            unavailable                9   503
        ├── StoreUnavailableError                   unavailable.store          9   503
        ├── BackendUnavailableError                 unavailable.backend        9   503
        ├── AuditUnavailableError                   unavailable.audit          9   503
        ├── DirectoryUnavailableError               unavailable.directory      9   503
        ├── ServerUnavailableError                  unavailable.server         9   503
        └── HsmUnavailableError                     unavailable.hsm            9   503

Exit 0 is success; 1 is a negative verdict (a leak found, a log that does not verify), like
``diff``; 2 is a usage error (Click); 70 is an unexpected internal error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AccessError",
    "AdmissionError",
    "ApprovalRequiredError",
    "AttestationError",
    "AuditIntegrityError",
    "AuditUnavailableError",
    "AuthenticationError",
    "BackendUnavailableError",
    "CapacityError",
    "CaptureError",
    "ConflictError",
    "CryptoError",
    "DataIntegrityError",
    "DirectoryHostRefusedError",
    "DirectoryUnavailableError",
    "EnforcementDriftError",
    "FrameError",
    "HsmUnavailableError",
    "IdempotencyConflictError",
    "InputError",
    "IsolationViolationError",
    "KeyMaterialError",
    "KeyRevokedError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionRequiredError",
    "QuotaExceededError",
    "RateLimitedError",
    "RequestTooLargeError",
    "ServerUnavailableError",
    "SpecError",
    "SpecIssue",
    "StaleRevisionError",
    "StoreUnavailableError",
    "TenantryError",
    "ThrottledError",
    "UnavailableError",
    "Violation",
    "all_error_classes",
]

INTERNAL_ERROR_EXIT = 70


class TenantryError(Exception):
    """Base of every error tenantry raises on purpose."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    hint: ClassVar[str] = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._hint = hint

    def diagnostics(self) -> str:
        """What the user should do next."""
        return self._hint or self.hint

    def details(self) -> list[dict[str, object]]:
        """Structured detail for API problem documents (``errors[]``); empty by default."""
        return []


class InputError(TenantryError):
    """Input (a file, a request body, a frame, a key) is malformed; nothing was changed."""

    code = "input.invalid"
    exit_code = 3
    http_status = 422
    hint = "Correct the input and try again; nothing was changed."


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec: where it is and what is wrong."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"


class SpecError(InputError):
    """A spec (YAML or request body) is invalid; lists every issue found, each with its place."""

    code = "spec.invalid"
    hint = "Fix the listed fields (see docs/spec.md, or `tenantry schema`); nothing was changed."

    def __init__(self, issues: Sequence[SpecIssue], *, hint: str | None = None) -> None:
        self.issues = tuple(issues)
        lines = [str(issue) for issue in self.issues]
        head = lines[0] if len(lines) == 1 else f"{len(lines)} problems in the spec"
        body = "" if len(lines) == 1 else "\n" + "\n".join(f"  - {line}" for line in lines)
        super().__init__(head + body, hint=hint)

    def details(self) -> list[dict[str, object]]:
        return [
            {
                "pointer": "/" + issue.path.replace(".", "/").replace("[", "/").replace("]", ""),
                "path": issue.path,
                "detail": issue.message,
                **({"file": issue.file} if issue.file else {}),
                **({"line": issue.line} if issue.line is not None else {}),
                **({"column": issue.column} if issue.column is not None else {}),
            }
            for issue in self.issues
        ]


class FrameError(InputError):
    """A frame is truncated or malformed; carries the byte offset where decoding stopped."""

    code = "frame.invalid"
    hint = "The frame is dropped; check the bytes at the given offset."

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"malformed frame at byte {offset}: {reason}")
        self.reason = reason
        self.offset = offset


class CaptureError(InputError):
    """A packet capture file cannot be read."""

    code = "capture.invalid"
    hint = "Give a pcap or pcapng file (as written by tcpdump -w)."


class KeyMaterialError(InputError):
    """Key material (a wrapped key, a public key, a signature) is malformed."""

    code = "key.invalid"
    hint = "Re-export the key with `tenantry keys wrap` and upload the result unchanged."


class PreconditionRequiredError(InputError):
    """A write did not say which revision it expects (If-Match, or If-None-Match: * to create)."""

    code = "precondition.required"
    http_status = 428
    hint = "Read the object first and send its ETag in If-Match; to create, send If-None-Match: *."


class RequestTooLargeError(InputError):
    """A request body is larger than the server accepts."""

    code = "input.too_large"
    http_status = 413
    hint = "Split the spec into smaller documents, or raise TENANTRY_MAX_REQUEST_BYTES."


class NotFoundError(TenantryError):
    """The object does not exist, or the caller may not know that it does."""

    code = "not_found"
    exit_code = 4
    http_status = 404
    hint = "Check the name with `tenantry get KIND`."


class ConflictError(TenantryError):
    """The request conflicts with the current state."""

    code = "conflict"
    exit_code = 5
    http_status = 409
    hint = "Re-read the current state and retry."


class StaleRevisionError(ConflictError):
    """A write was based on a revision that is no longer current (optimistic concurrency)."""

    code = "conflict.stale"
    hint = "Someone changed it since you read it: fetch it again, reapply your change, retry."


class IdempotencyConflictError(ConflictError):
    """An idempotency key was reused with a different request body."""

    code = "conflict.idempotency"
    hint = "Use a fresh idempotency key for a different request."


class AccessError(TenantryError):
    """The caller is not allowed to do this."""

    code = "access"
    exit_code = 6
    http_status = 403


class AuthenticationError(AccessError):
    """No valid credentials (missing, wrong, expired or revoked)."""

    code = "auth.required"
    http_status = 401
    hint = "Log in again (`tenantry login`) or use a valid API token."


class PermissionDeniedError(AccessError):
    """Authenticated, but the caller lacks the privilege on that object."""

    code = "auth.denied"
    hint = "Ask an administrator of the object's owner for the privilege."


class ThrottledError(AccessError):
    """Too many failed attempts; try again later."""

    code = "auth.throttled"
    http_status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, hint=f"Wait {retry_after:.0f} s before trying again.")
        self.retry_after = retry_after


class RateLimitedError(ThrottledError):
    """A credential domain sent more requests than its share; others are not slowed."""

    code = "auth.rate_limited"


class DirectoryHostRefusedError(AccessError):
    """A tenant's directory names a host outside the provider's allow-list."""

    code = "auth.directory_host"
    hint = (
        "Tenants may use only the directory hosts the provider allows "
        "(TENANTRY_DIRECTORY_HOSTS); ask the provider to add yours."
    )


class ApprovalRequiredError(AccessError):
    """A sensitive operation waits for a second, different person to approve it."""

    code = "approval.required"
    exit_code = 7
    http_status = 202

    def __init__(self, message: str, *, approval_id: str) -> None:
        super().__init__(
            message,
            hint=f"A second authorised person must run `tenantry approvals approve {approval_id}`.",
        )
        self.approval_id = approval_id


@dataclass(frozen=True)
class Violation:
    """One broken admission rule: the rule, the objects involved and what is wrong.

    ``kind``, ``ref`` and ``field`` locate the offending value (``guest``, ``finance/web-1``,
    ``vnics[0].mac``) so that a spec loader can point at the file and line.
    """

    rule: str
    message: str
    objects: tuple[str, ...] = ()
    kind: str = ""
    ref: str = ""
    field: str = ""

    @property
    def path(self) -> str:
        """``kind ref.field``, or empty when the violation is about the estate as a whole."""
        if not self.kind:
            return ""
        return f"{self.kind} {self.ref}" + (f".{self.field}" if self.field else "")

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message} [{self.rule}]"


class AdmissionError(TenantryError):
    """A change was refused by an admission rule; nothing was written."""

    code = "admission.refused"
    exit_code = 8
    http_status = 422
    hint = "Change the spec so that it respects the named rule; nothing was written."

    def __init__(self, violations: Sequence[Violation], *, hint: str | None = None) -> None:
        self.violations = tuple(violations)
        self.locations: tuple[SpecIssue | None, ...] = ()
        lines = [str(v) for v in self.violations]
        head = lines[0] if len(lines) == 1 else f"{len(lines)} admission rules broken"
        body = "" if len(lines) == 1 else "\n" + "\n".join(f"  - {line}" for line in lines)
        super().__init__(head + body, hint=hint)

    def locate(self, issues: Sequence[SpecIssue | None]) -> None:
        """Where each violation sits in the submitted spec (one issue per violation)."""
        self.locations = tuple(issues)

    def details(self) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        for index, v in enumerate(self.violations):
            item: dict[str, object] = {
                "rule": v.rule,
                "detail": v.message,
                "objects": list(v.objects),
                "path": v.path,
            }
            where = self.locations[index] if index < len(self.locations) else None
            if where is not None and where.path:
                item.update(SpecError([where]).details()[0])
                item["detail"] = v.message
            found.append(item)
        return found


class IsolationViolationError(AdmissionError):
    """The change would open a path between tenants; carries the counterexample."""

    code = "admission.isolation"
    hint = "The change opens a leak between tenants (counterexample above); it was refused."

    def __init__(
        self,
        violations: Sequence[Violation],
        *,
        counterexamples: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(violations, hint=hint)
        self.counterexamples = tuple(counterexamples)
        if self.counterexamples:
            shown = "\n".join(f"counterexample:\n{text}" for text in self.counterexamples[:3])
            self.message = f"{self.message}\n{shown}"
            self.args = (self.message,)

    def details(self) -> list[dict[str, object]]:
        found = super().details()
        for item, violation in zip(found, self.violations, strict=True):
            text = getattr(violation, "counterexample", "")
            if text:
                item["counterexample"] = text
        return found


class CapacityError(AdmissionError):
    """Reservations would exceed a host, a resource pool or a tenant's upper bound."""

    code = "admission.capacity"
    hint = "Lower the reservations, pick another host or pool, or raise the bound."


class QuotaExceededError(AdmissionError):
    """A tenant exceeded its quota of objects or requests."""

    code = "admission.quota"
    http_status = 429
    hint = "Delete unused objects or ask the provider to raise the quota."


class AttestationError(AdmissionError):
    """A host or image failed an integrity check; it is treated as untrusted."""

    code = "admission.attestation"
    hint = "Re-attest the host or re-import a correctly signed image."


class AuditIntegrityError(TenantryError):
    """The audit log or a proof does not verify: something was altered."""

    code = "audit.integrity"
    exit_code = 1
    http_status = 500
    hint = "Treat the log as tampered with; compare against a checkpoint held by a witness."


class DataIntegrityError(TenantryError):
    """Stored data (a disk block, a signed image) failed authentication."""

    code = "data.integrity"
    exit_code = 1
    http_status = 500
    hint = "The data was altered or moved; restore it from a verified copy."


class EnforcementDriftError(TenantryError):
    """The data plane holds rules tenantry did not write (a hand edit): it cannot be read back."""

    code = "dataplane.drift"
    exit_code = 1
    http_status = 500
    hint = "See the differences with `tenantry drift`; `tenantry drift --repair` restores them."


class CryptoError(TenantryError):
    """A cryptographic operation was refused (key not released, wrong owner)."""

    code = "crypto.refused"
    exit_code = 10
    http_status = 403
    hint = "Keys are released only to a running guest of their tenant on an attested host."


class KeyRevokedError(CryptoError):
    """The tenant revoked the key; the data it protected can no longer be read by anyone."""

    code = "crypto.revoked"
    http_status = 410
    hint = "The tenant revoked this key (crypto-shredding); the data is gone by design."


class UnavailableError(TenantryError):
    """A component tenantry depends on is unavailable; retry later."""

    code = "unavailable"
    exit_code = 9
    http_status = 503
    hint = "Check that the component is running, then retry."


class StoreUnavailableError(UnavailableError):
    """The store cannot be reached or refused the write."""

    code = "unavailable.store"
    hint = "Check the --store URL (or TENANTRY_STORE) and that the database is reachable."


class BackendUnavailableError(UnavailableError):
    """An enforcement backend (OVN, the lab) cannot be reached."""

    code = "unavailable.backend"
    hint = "Check that the backend's daemons run (`tenantry lab status`)."


class AuditUnavailableError(UnavailableError):
    """The audit log cannot be written; security-relevant changes are refused (fail closed)."""

    code = "unavailable.audit"
    hint = "Free space for the audit log or restore its storage; changes resume afterwards."


class DirectoryUnavailableError(UnavailableError):
    """The LDAP / Active Directory server cannot be reached or failed."""

    code = "unavailable.directory"
    hint = "Check the directory URL and that the LDAP server answers; local users still log in."


class ServerUnavailableError(UnavailableError):
    """The tenantry API server cannot be reached, or its TLS identity does not verify."""

    code = "unavailable.server"
    hint = "Check --server and that `tenantry serve` runs; give its certificate with --cacert."


class HsmUnavailableError(UnavailableError):
    """The PKCS#11 module or token holding tenant keys cannot be used; no key is released."""

    code = "unavailable.hsm"
    hint = (
        "Check TENANTRY_HSM_MODULE, TENANTRY_HSM_TOKEN and the PIN (TENANTRY_HSM_PIN or "
        "TENANTRY_HSM_PIN_FILE), and that the token is initialised."
    )


def all_error_classes() -> list[type[TenantryError]]:
    """Every TenantryError subclass, depth first (for docs and drift tests)."""
    found: list[type[TenantryError]] = [TenantryError]
    stack: list[type[TenantryError]] = [TenantryError]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found
