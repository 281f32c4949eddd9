"""A provider-side key service in its own process, driven line by line over stdin/stdout.

THREATS row 43 needs a process that did everything the provider does (import, allocate,
release, seal, rotate, read images, revoke) so that a core dump of it can be searched for
key material. It logs at DEBUG level to the file named by its second argument.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from tenantry.errors import TenantryError
from tenantry.governance import Actor
from tenantry.keys import (
    HostTrustState,
    HsmSettings,
    ReleaseRefusal,
    ReleaseRequest,
    SealRequest,
    WrappedKey,
)
from tenantry.keys.disk import DiskHeader, verify_image
from tenantry.keys.pkcs11 import Pkcs11Vault
from tenantry.model import Ref
from tenantry.service import Service, TenantKeys

OPERATOR = Actor.local_operator()
PROVIDER_ADMIN = Actor("alice", roles=frozenset({"administrator"}))


class _BoundRecipients:
    """Host trust as attestation will give it: recipient keys bound to hosts, added live."""

    def __init__(self, bindings: dict[str, set[str]]) -> None:
        self._bindings = bindings

    def assess(self, host: str, recipient: str) -> HostTrustState:
        trusted = recipient in self._bindings.get(host, set())
        return HostTrustState(host, trusted, "bound by the test" if trusted else "not bound")


def main() -> None:
    store, log = sys.argv[1], sys.argv[2]
    logging.basicConfig(filename=log, level=logging.DEBUG, force=True)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    service = Service.open(store)
    settings = HsmSettings()
    vault = Pkcs11Vault(settings.module_path(), settings.token, settings.user_pin())
    bindings: dict[str, set[str]] = {}
    keys = TenantKeys(service, vault, host_trust=_BoundRecipients(bindings))
    for line in sys.stdin:
        command: dict[str, Any] = json.loads(line)
        try:
            reply = handle(keys, bindings, command)
        except TenantryError as exc:
            reply = {"error": exc.code, "message": str(exc)}
        logging.debug("command %s -> %s", command.get("op"), sorted(reply))
        print(json.dumps(reply), flush=True)


def handle(
    keys: TenantKeys, bindings: dict[str, set[str]], command: dict[str, Any]
) -> dict[str, Any]:
    op = command["op"]
    if op == "trust":
        bindings.setdefault(command["host"], set()).add(command["recipient"])
        return {}
    if op == "wrapping-key":
        return {"pem": keys.wrapping_key().to_pem()}
    if op in {"import", "rotate"}:
        blob = WrappedKey.from_pem(command["blob"])
        action = keys.import_key if op == "import" else keys.rotate_key
        return {"version": action(OPERATOR, command["tenant"], blob).version}
    if op == "create-disk":
        path, header = keys.create_disk(
            OPERATOR,
            Ref.parse(command["guest"]),
            command["disk"],
            Path(command["datastores"]),
            size=command["size"],
        )
        return {"path": str(path), "disk_id": header.disk_id}
    if op == "release":
        result = keys.release_key(
            ReleaseRequest(
                command["disk_id"],
                Ref.parse(command["guest"]),
                command["host"],
                bytes.fromhex(command["recipient"]),
            )
        )
        if isinstance(result, ReleaseRefusal):
            return {"refused": str(result.reason)}
        return {
            "wrapped": result.wrapped.hex(),
            "oaep_hash": str(result.oaep_hash),
            "recipient": result.recipient,
            "generation": result.generation,
            "signing_key": result.signing_key.hex(),
            "tenant": result.tenant,
            "guest": result.guest,
            "disk": result.disk,
        }
    if op == "seal":
        header = DiskHeader.model_validate_json(command["header"])
        signature = keys.seal_disk(
            SealRequest(
                Ref.parse(command["guest"]),
                command["host"],
                bytes.fromhex(command["recipient"]),
                header,
            )
        )
        return {"signature": signature.hex()}
    if op == "provider-reads":
        # What a provider administrator can do with an image: read it, verify it without a key.
        raw = Path(command["path"]).read_bytes()
        report = verify_image(
            Path(command["path"]), signing_key=keys.signing_key(OPERATOR, command["tenant"])
        )
        return {"size": len(raw), "ok": report.ok}
    if op == "admin-attempts":
        refused = 0
        for attempt in (
            lambda: keys.revoke_keys(PROVIDER_ADMIN, command["tenant"]),
            lambda: keys.import_key(
                PROVIDER_ADMIN, command["tenant"], WrappedKey.from_pem(command["blob"])
            ),
        ):
            try:
                attempt()
            except TenantryError:
                refused += 1
        return {"refused": refused}
    if op == "revoke":
        return {"shredded": keys.revoke_keys(OPERATOR, command["tenant"])}
    raise ValueError(f"unknown op {op}")


if __name__ == "__main__":
    main()
