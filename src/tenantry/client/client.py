"""A Python client of the tenantry REST API (httpx): the same operations as the CLI, remotely.

Errors come back as the same ``tenantry.errors`` classes the server raised, rebuilt from the
RFC 9457 problem documents; transport and TLS failures become ServerUnavailableError.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from tenantry.client.problems import error_from_problem
from tenantry.errors import InputError, ServerUnavailableError
from tenantry.model import KIND_INFO, Kind, Ref

__all__ = ["Client"]


class Client:
    """One server, one bearer token (after ``login``), TLS verified against ``cacert``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        cacert: str | Path | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        verify: ssl.SSLContext | bool = True
        if cacert is not None:
            try:
                verify = ssl.create_default_context(cafile=str(cacert))
            except (OSError, ssl.SSLError) as exc:
                raise ServerUnavailableError(f"cannot use --cacert {cacert}: {exc}") from exc
        self._http = httpx.Client(
            base_url=self.base_url, verify=verify, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request; a problem document (or a 202 waiting for approval) raises its error."""
        sent = dict(headers or {})
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(
                method, path, json=json, content=content, headers=sent, params=params
            )
        except httpx.HTTPError as exc:
            raise ServerUnavailableError(
                f"{method} {self.base_url}{path} failed: {type(exc).__name__}: {exc}"
            ) from exc
        media = response.headers.get("content-type", "")
        if response.status_code >= 400 or media.startswith("application/problem+json"):
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:300]}
            raise error_from_problem(
                problem, response.status_code, response.headers.get("retry-after")
            )
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # ------------------------------------------------------------------ auth

    def login(
        self, username: str, password: str, *, tenant: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        """Open a session; later requests carry its token."""
        issued: dict[str, Any] = self._json(
            "POST",
            "/v1/auth/login",
            json={"username": username, "tenant": tenant, "password": password, "code": code},
        )
        self.token = str(issued["token"])
        return issued

    def logout(self) -> None:
        """End this session."""
        self.request("POST", "/v1/auth/logout")
        self.token = None

    def whoami(self) -> dict[str, Any]:
        """Who the token belongs to."""
        found: dict[str, Any] = self._json("GET", "/v1/auth/whoami")
        return found

    # ------------------------------------------------------------------ objects

    @staticmethod
    def object_path(kind: Kind, ref: str) -> str:
        """The API path of one object (``tenant/name`` for tenant-owned kinds)."""
        if kind is Kind.PROVIDER:
            return "/v1/provider"
        if KIND_INFO[kind].owned:
            owner, sep, name = ref.partition("/")
            if not sep:
                owner, name = "provider", ref
            return f"/v1/{kind}/{owner}/{name}"
        return f"/v1/{kind}/{ref}"

    def iter_objects(self, kind: Kind, *, owner: str | None = None) -> Iterator[dict[str, Any]]:
        """Every object of a kind the caller may see (following the pages)."""
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            if owner:
                params["owner"] = owner
            page = self._json("GET", f"/v1/{kind}", params=params)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def list_objects(self, kind: Kind) -> list[dict[str, Any]]:
        """Every object of a kind the caller may see."""
        if kind is Kind.PROVIDER:
            return [self.get_object(kind, "provider")]
        return list(self.iter_objects(kind))

    def get_object(self, kind: Kind, ref: str) -> dict[str, Any]:
        """One object (``body`` and ``revision``)."""
        found: dict[str, Any] = self._json("GET", self.object_path(kind, ref))
        return found

    def put_object(
        self, kind: Kind, ref: str, body: dict[str, Any], *, revision: int | None
    ) -> dict[str, Any]:
        """Create (``revision`` None) or replace the object read at ``revision``."""
        headers = {"If-None-Match": "*"} if revision is None else {"If-Match": f'"{revision}"'}
        found: dict[str, Any] = self._json(
            "PUT", self.object_path(kind, ref), json=body, headers=headers
        )
        return found

    def delete_object(self, kind: Kind, ref: str, *, revision: int | None = None) -> None:
        """Delete an object (at the revision read now, unless one is given)."""
        if revision is None:
            revision = int(self.get_object(kind, ref)["revision"])
        self.request("DELETE", self.object_path(kind, ref), headers={"If-Match": f'"{revision}"'})

    def plan(self, spec: str, *, prune: bool = False) -> dict[str, Any]:
        """What applying a spec (YAML or JSON text) would change."""
        return self._spec("/v1/plan", spec, prune)

    def apply(
        self, spec: str, *, prune: bool = False, override_isolation: bool = False
    ) -> dict[str, Any]:
        """Apply a spec (``override_isolation``: ask a second person to admit a leak)."""
        return self._spec("/v1/apply", spec, prune, override_isolation)

    def _spec(self, path: str, spec: str, prune: bool, override: bool = False) -> dict[str, Any]:
        params = {"prune": "true" if prune else "false"}
        if override:
            params["override_isolation"] = "true"
        found: dict[str, Any] = self._json(
            "POST",
            path,
            content=spec.encode(),
            headers={"Content-Type": "application/yaml"},
            params=params,
        )
        return found

    def export(self) -> str:
        """The visible estate as spec text."""
        return self.request("GET", "/v1/export").text

    # ------------------------------------------------------------------ users and RBAC

    def users(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Users of a domain (default: one's own)."""
        found: list[dict[str, Any]] = self._json("GET", "/v1/users", params=_domain(domain))
        return found

    def create_user(
        self,
        domain: str,
        name: str,
        *,
        password: str | None = None,
        source: str = "local",
        groups: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Add a user."""
        body = {
            "domain": domain,
            "name": name,
            "password": password,
            "source": source,
            "groups": list(groups),
        }
        found: dict[str, Any] = self._json("POST", "/v1/users", json=body)
        return found

    def user_action(self, domain: str, name: str, action: str) -> None:
        """``disable``, ``enable`` or ``unlock`` a user."""
        if action not in ("disable", "enable", "unlock"):
            raise InputError(f"unknown user action {action!r}")
        self.request("POST", f"/v1/users/{domain}/{name}/{action}")

    def disable_mfa(self, domain: str, name: str) -> None:
        """Remove a user's second factor (may wait for a second approver)."""
        self.request("DELETE", f"/v1/users/{domain}/{name}/mfa")

    def grant_role(
        self, domain: str, principal: str, role: str, scope: str = "/", *, propagate: bool = True
    ) -> dict[str, Any]:
        """Give a user or group a role on a node."""
        body = {
            "domain": domain,
            "principal": principal,
            "role": role,
            "scope": scope,
            "propagate": propagate,
        }
        found: dict[str, Any] = self._json("POST", "/v1/permissions", json=body)
        return found

    def permissions(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Permissions of a domain."""
        found: list[dict[str, Any]] = self._json("GET", "/v1/permissions", params=_domain(domain))
        return found

    def revoke_permission(self, permission_id: str) -> None:
        """Remove a permission."""
        self.request("DELETE", f"/v1/permissions/{permission_id}")

    # ------------------------------------------------------------------ credentials

    def tokens(self) -> list[dict[str, Any]]:
        """One's live API tokens."""
        found: list[dict[str, Any]] = self._json("GET", "/v1/tokens")
        return found

    def create_token(
        self, name: str, expires_in: int, privileges: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """A new API token (its secret is in ``token``, shown once)."""
        body = {
            "name": name,
            "expires_in": expires_in,
            "privileges": None if privileges is None else list(privileges),
        }
        found: dict[str, Any] = self._json("POST", "/v1/tokens", json=body)
        return found

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token."""
        self.request("DELETE", f"/v1/tokens/{token_id}")

    def sessions(
        self, *, everyone: bool = False, domain: str | None = None
    ) -> list[dict[str, Any]]:
        """Live sessions: one's own, or with ``everyone`` the domain's."""
        params = {**_domain(domain), "everyone": "true" if everyone else "false"}
        found: list[dict[str, Any]] = self._json("GET", "/v1/sessions", params=params)
        return found

    def end_session(self, session_id: str) -> None:
        """End one session."""
        self.request("DELETE", f"/v1/sessions/{session_id}")

    def end_user_sessions(self, domain: str, name: str) -> None:
        """End every session and token of a user."""
        self.request("DELETE", f"/v1/users/{domain}/{name}/sessions")

    # ------------------------------------------------------------------ approvals and grants

    def approvals(self) -> list[dict[str, Any]]:
        """Requests one may see."""
        found: list[dict[str, Any]] = self._json("GET", "/v1/approvals")
        return found

    def approve(self, approval_id: str) -> dict[str, Any]:
        """Approve (and so execute) a request."""
        found: dict[str, Any] = self._json("POST", f"/v1/approvals/{approval_id}/approve")
        return found

    def reject(self, approval_id: str) -> dict[str, Any]:
        """Reject or withdraw a request."""
        found: dict[str, Any] = self._json("POST", f"/v1/approvals/{approval_id}/reject")
        return found

    def grants(self) -> list[dict[str, Any]]:
        """Data-access grants one may see."""
        found: list[dict[str, Any]] = self._json("GET", "/v1/grants")
        return found

    def create_grant(self, grantee: str, guest: str, privilege: str, expires_in: int) -> None:
        """Grant a provider operator access (raises ApprovalRequiredError with its request)."""
        body = {
            "grantee": grantee,
            "guest": guest,
            "privilege": privilege,
            "expires_in": expires_in,
        }
        self.request("POST", "/v1/grants", json=body)

    def revoke_grant(self, grant_id: str) -> dict[str, Any]:
        """End a grant."""
        found: dict[str, Any] = self._json("DELETE", f"/v1/grants/{grant_id}")
        return found

    def use_data(self, privilege: str, guest: str, part: str | None = None) -> dict[str, Any]:
        """Use a tenant-data privilege on a guest (``part``: the disk or vNIC name)."""
        ref = Ref.parse(guest)
        base = f"/v1/guest/{ref.owner}/{ref.name}"
        paths = {
            "guest.console": f"{base}/console",
            "memory.dump": f"{base}/memory-dump",
            "snapshot.export": f"{base}/snapshot-export",
            "disk.read": f"{base}/disks/{part}/read",
            "disk.export": f"{base}/disks/{part}/export",
            "traffic.mirror": f"{base}/vnics/{part}/mirror",
            "traffic.capture": f"{base}/vnics/{part}/capture",
        }
        if privilege not in paths:
            raise InputError(f"{privilege!r} is not a tenant-data privilege")
        found: dict[str, Any] = self._json("POST", paths[privilege])
        return found


def _domain(domain: str | None) -> dict[str, str]:
    return {} if domain is None else {"domain": domain}
