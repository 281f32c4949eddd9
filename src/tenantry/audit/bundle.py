"""Forensic bundles and tenant views: entries, proofs, heads and a snapshot, signed as a whole.

A bundle of the whole log carries every entry up to its head, so a verifier recomputes the
tree. A tenant's bundle carries only that tenant's entries, each with its inclusion proof
against the signed head: sibling hashes, never another tenant's entry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from tenantry.audit._parse import field as required
from tenantry.audit._parse import hex_bytes, hex_list, integer, obj, seq, text
from tenantry.audit.proofs import ConsistencyProof
from tenantry.audit.treehead import SignedTreeHead, Signer, verify_signature
from tenantry.errors import InputError

__all__ = ["FORMAT", "Bundle", "BundleEntry", "CheckpointProof", "SnapshotObject"]

FORMAT = "tenantry-audit-bundle/1"
_DOMAIN = b"tenantry-audit-bundle/v1\n"
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class BundleEntry:
    """An entry's canonical bytes at its position; with its audit path in a tenant's bundle."""

    seq: int
    body: bytes
    proof: tuple[bytes, ...] | None = None


@dataclass(frozen=True)
class CheckpointProof:
    """A checkpoint held elsewhere and the consistency proof between it and the bundle's head."""

    checkpoint: SignedTreeHead
    proof: ConsistencyProof


@dataclass(frozen=True)
class SnapshotObject:
    """One object of the estate as it was at the bundle's generation."""

    kind: str
    ref: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Bundle:
    """Everything needed to check a stretch of the log offline with only the public key."""

    scope: str | None
    """The tenant whose view this is, or None for the whole log."""
    head: SignedTreeHead
    entries: tuple[BundleEntry, ...]
    heads: tuple[SignedTreeHead, ...] = ()
    generation: int | None = None
    snapshot: tuple[SnapshotObject, ...] | None = None
    latest: SignedTreeHead | None = None
    latest_proof: ConsistencyProof | None = None
    checkpoints: tuple[CheckpointProof, ...] = ()
    created: str = ""
    public_key: bytes = b""
    signature: bytes = field(default=b"", repr=False)

    def content(self) -> dict[str, Any]:
        """Everything the signature covers."""
        return {
            "format": FORMAT,
            "scope": self.scope,
            "created": self.created,
            "public_key": self.public_key.hex(),
            "head": self.head.to_json(),
            "heads": [h.to_json() for h in self.heads],
            "entries": [
                {"seq": e.seq, "body": e.body.decode()}
                | ({} if e.proof is None else {"proof": [p.hex() for p in e.proof]})
                for e in self.entries
            ],
            "generation": self.generation,
            "snapshot": None
            if self.snapshot is None
            else [{"kind": o.kind, "ref": o.ref, "body": o.body} for o in self.snapshot],
            "latest": None if self.latest is None else self.latest.to_json(),
            "latest_proof": None if self.latest_proof is None else self.latest_proof.to_json(),
            "checkpoints": [
                {"checkpoint": c.checkpoint.to_json(), "proof": c.proof.to_json()}
                for c in self.checkpoints
            ],
        }

    def message(self) -> bytes:
        """The bytes signed: a domain tag and the SHA-256 of the canonical content."""
        return _DOMAIN + hashlib.sha256(_CANONICAL.encode(self.content()).encode()).digest()

    def sign(self, signer: Signer) -> Bundle:
        """This bundle with ``signer``'s public key and signature."""
        unsigned = replace(self, public_key=signer.public_key(), signature=b"")
        return replace(unsigned, signature=signer.sign(unsigned.message()))

    def is_signed_by(self, public_key: bytes) -> bool:
        """Whether the bundle's signature verifies with ``public_key``."""
        return verify_signature(public_key, self.signature, self.message())

    def to_json(self) -> dict[str, Any]:
        return self.content() | {"signature": base64.b64encode(self.signature).decode()}

    def dumps(self) -> str:
        """The bundle as a JSON document."""
        return json.dumps(self.to_json(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def loads(cls, data: str | bytes) -> Bundle:
        """A bundle from its JSON document; InputError naming the bad field if malformed."""
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InputError(f"the bundle is not JSON: {exc}") from exc
        return cls.from_json(parsed)

    @classmethod
    def from_json(cls, data: object) -> Bundle:
        """A bundle from its JSON form."""
        top = obj(data, "bundle")
        if required(top, "format", "bundle") != FORMAT:
            raise InputError(f"bundle.format: expected {FORMAT!r}")
        scope = top.get("scope")
        if scope is not None:
            scope = text(scope, "bundle.scope")
        generation = top.get("generation")
        if generation is not None:
            generation = integer(generation, "bundle.generation")
        try:
            signature = base64.b64decode(
                text(required(top, "signature", "bundle"), "bundle.signature"), validate=True
            )
        except (binascii.Error, ValueError) as exc:
            raise InputError("bundle.signature: not base64") from exc
        latest = top.get("latest")
        latest_proof = top.get("latest_proof")
        return cls(
            scope=scope,
            head=SignedTreeHead.from_json(required(top, "head", "bundle"), where="bundle.head"),
            entries=tuple(
                _entry(item, f"bundle.entries[{i}]")
                for i, item in enumerate(seq(required(top, "entries", "bundle"), "bundle.entries"))
            ),
            heads=tuple(
                SignedTreeHead.from_json(item, where=f"bundle.heads[{i}]")
                for i, item in enumerate(seq(top.get("heads", []), "bundle.heads"))
            ),
            generation=generation,
            snapshot=_snapshot(top.get("snapshot")),
            latest=None
            if latest is None
            else SignedTreeHead.from_json(latest, where="bundle.latest"),
            latest_proof=None
            if latest_proof is None
            else _consistency(latest_proof, "bundle.latest_proof"),
            checkpoints=tuple(
                CheckpointProof(
                    SignedTreeHead.from_json(
                        required(obj(item, w := f"bundle.checkpoints[{i}]"), "checkpoint", w),
                        where=f"{w}.checkpoint",
                    ),
                    _consistency(required(item, "proof", w), f"{w}.proof"),
                )
                for i, item in enumerate(seq(top.get("checkpoints", []), "bundle.checkpoints"))
            ),
            created=text(top.get("created", ""), "bundle.created"),
            public_key=hex_bytes(required(top, "public_key", "bundle"), "bundle.public_key"),
            signature=signature,
        )


def _entry(item: object, where: str) -> BundleEntry:
    data = obj(item, where)
    proof = data.get("proof")
    return BundleEntry(
        seq=integer(required(data, "seq", where), f"{where}.seq"),
        body=text(required(data, "body", where), f"{where}.body").encode(),
        proof=None if proof is None else hex_list(proof, f"{where}.proof"),
    )


def _consistency(item: object, where: str) -> ConsistencyProof:
    data = obj(item, where)
    return ConsistencyProof(
        old_size=integer(required(data, "old_size", where), f"{where}.old_size"),
        new_size=integer(required(data, "new_size", where), f"{where}.new_size"),
        path=hex_list(required(data, "path", where), f"{where}.path"),
    )


def _snapshot(item: object) -> tuple[SnapshotObject, ...] | None:
    if item is None:
        return None
    objects = []
    for i, raw in enumerate(seq(item, "bundle.snapshot")):
        where = f"bundle.snapshot[{i}]"
        data = obj(raw, where)
        objects.append(
            SnapshotObject(
                kind=text(required(data, "kind", where), f"{where}.kind"),
                ref=text(required(data, "ref", where), f"{where}.ref"),
                body=obj(required(data, "body", where), f"{where}.body"),
            )
        )
    return tuple(objects)
