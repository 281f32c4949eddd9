"""Bundles and tenant views verify offline with the public key; every alteration shows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from tenantry.audit import (
    AuditRecord,
    MemoryNodes,
    Outcome,
    Problem,
    TreeLevels,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
)
from tenantry.audit.bundle import Bundle, BundleEntry, SnapshotObject
from tenantry.audit.bundle_check import verify_bundle
from tenantry.audit.snapshot import object_digest, object_key
from tenantry.errors import InputError
from tests.unit.audit.logs import OTHER_SIGNER, SIGNER, sign

GUEST = {"name": "web-1", "cpus": 2}
TENANT = {"name": "acme", "description": "Acme"}


def _entry(
    i: int,
    tenant: str | None,
    objects: dict[str, str | None] | None = None,
    number: int | None = None,
) -> bytes:
    details: dict[str, object] = {"generation": i + 1}
    if objects is not None:
        details["objects"] = objects
    return AuditRecord(
        actor="op",
        action="apply",
        outcome=Outcome.APPLIED,
        targets=(f"create guest {tenant}/web-{i}",) if tenant else ("create host h1",),
        tenants=() if tenant is None else (tenant,),
        details=details,
        time=datetime(2024, 5, 1, tzinfo=UTC),
        tenant_seq=number,
    ).canonical()


def _log() -> list[bytes]:
    return [
        _entry(0, None, {"host h1": object_digest({"name": "h1"})}),
        _entry(1, "acme", {object_key("tenant", "acme"): object_digest(TENANT)}),
        _entry(2, "beta", {"guest beta/db-1": object_digest({"name": "db-1"})}),
        _entry(3, "acme", {"guest acme/web-1": object_digest(GUEST)}),
        _entry(4, "beta", {}),
    ]


def _bundle(scope: str | None, bodies: list[bytes] | None = None, size: int = 5) -> Bundle:
    bodies = _log() if bodies is None else bodies
    levels = TreeLevels.of([leaf_hash(b) for b in bodies])
    head = sign(size, levels.root(size))
    chosen = [
        (i, b) for i, b in enumerate(bodies[:size]) if scope is None or f'"{scope}"]' in b.decode()
    ]
    source = MemoryNodes(levels)
    entries = tuple(
        BundleEntry(i, b, None if scope is None else prove_inclusion(source, i, size).path)
        for i, b in chosen
    )
    snapshot = [
        SnapshotObject("guest", "acme/web-1", GUEST),
        SnapshotObject("tenant", "acme", TENANT),
    ]
    if scope is None:
        snapshot += [SnapshotObject("host", "h1", {"name": "h1"}),
                     SnapshotObject("guest", "beta/db-1", {"name": "db-1"})]  # fmt: skip
    return Bundle(
        scope=scope,
        head=head,
        entries=entries,
        heads=(sign(2, levels.root(2)),) if scope is None else (),
        generation=5,
        snapshot=tuple(snapshot),
    ).sign(SIGNER)


def _problems(bundle: Bundle, **kwargs: object) -> set[Problem]:
    verdict = verify_bundle(bundle, public_key=SIGNER.public_key(), **kwargs)  # type: ignore[arg-type]
    return {f.problem for f in verdict.findings}


@pytest.mark.parametrize("scope", [None, "acme"])
def test_a_bundle_verifies_with_the_pinned_key(scope: str | None) -> None:
    """The legitimate flow: the whole log, and a tenant's view, verify offline."""
    verdict = verify_bundle(_bundle(scope), public_key=SIGNER.public_key())
    assert verdict.ok, verdict.findings
    assert verdict.notes == ()


def test_a_bundle_survives_its_file_form() -> None:
    """What `audit bundle` writes is what `audit verify` reads."""
    bundle = _bundle("acme")
    assert verify_bundle(Bundle.loads(bundle.dumps()), public_key=SIGNER.public_key()).ok


def test_an_unpinned_bundle_is_checked_but_says_so() -> None:
    """Without a key to pin, the bundle's own key is used and the verdict notes it."""
    verdict = verify_bundle(_bundle(None))
    assert verdict.ok
    assert "not pinned" in verdict.notes[0]


def test_a_tenant_view_holds_no_other_tenants_entry() -> None:
    """acme's view carries only acme's entries and proofs (sibling hashes), nothing of beta."""
    text = _bundle("acme").dumps()
    assert "beta" not in text
    assert [e.seq for e in _bundle("acme").entries] == [1, 3]


def test_any_change_after_signing_voids_the_bundle() -> None:
    """Editing a bundle file breaks its signature."""
    data = json.loads(_bundle("acme").dumps())
    data["entries"][0]["body"] = data["entries"][0]["body"].replace('"op"', '"root"')
    assert Problem.BUNDLE_SIGNATURE in _problems(Bundle.from_json(data))


def test_a_bundle_resigned_with_another_key_is_refused() -> None:
    """Whoever re-signs a doctored bundle with their own key fails against the pinned key."""
    bundle = dataclasses.replace(_bundle("acme")).sign(OTHER_SIGNER)
    assert {Problem.WRONG_KEY, Problem.BUNDLE_SIGNATURE} <= _problems(bundle)


def test_an_altered_entry_fails_its_proof_even_if_the_bundle_is_resigned() -> None:
    """Signing a bundle cannot make an altered entry match the signed tree head."""
    bundle = _bundle("acme")
    first = bundle.entries[0]
    altered = dataclasses.replace(first, body=first.body.replace(b'"op"', b'"root"'))
    forged = dataclasses.replace(bundle, entries=(altered, *bundle.entries[1:])).sign(SIGNER)
    verdict = verify_bundle(forged, public_key=SIGNER.public_key())
    assert Problem.PROOF_INVALID in {f.problem for f in verdict.findings}
    assert verdict.first_bad_seq == 1


def test_a_whole_log_bundle_with_an_altered_entry_names_it() -> None:
    """In a bundle of the whole log, recomputing the tree finds the rewritten entry."""
    bodies = _log()
    bodies[3] = bodies[3].replace(b'"op"', b'"root"')
    bundle = _bundle(None)
    forged = dataclasses.replace(
        bundle, entries=tuple(BundleEntry(i, b) for i, b in enumerate(bodies))
    ).sign(SIGNER)
    verdict = verify_bundle(forged, public_key=SIGNER.public_key())
    assert not verdict.ok
    assert verdict.first_bad_seq is not None
    assert 2 <= verdict.first_bad_seq <= 3


def test_another_tenants_entry_in_a_view_is_flagged() -> None:
    """An entry of beta slipped into acme's view is reported, even with a valid proof."""
    bundle = _bundle("acme")
    levels = TreeLevels.of([leaf_hash(b) for b in _log()])
    foreign = BundleEntry(2, _log()[2], prove_inclusion(MemoryNodes(levels), 2, 5).path)
    mixed = dataclasses.replace(bundle, entries=(*bundle.entries, foreign)).sign(SIGNER)
    assert Problem.FOREIGN_ENTRY in _problems(mixed)


@pytest.mark.parametrize(
    "change",
    [
        "alter",  # an object's body differs from the digest the log holds
        "drop",  # an object the log wrote is missing
        "add",  # an object appears that the log never wrote
    ],
)
def test_a_doctored_snapshot_does_not_match_the_log(change: str) -> None:
    """The estate snapshot is bound to the applied entries' object digests."""
    bundle = _bundle("acme")
    objects = list(bundle.snapshot or ())
    if change == "alter":
        objects[0] = SnapshotObject("guest", "acme/web-1", {**GUEST, "cpus": 64})
    elif change == "drop":
        objects.pop()
    else:
        objects.append(SnapshotObject("guest", "acme/backdoor", {"name": "backdoor"}))
    forged = dataclasses.replace(bundle, snapshot=tuple(objects)).sign(SIGNER)
    assert Problem.SNAPSHOT_MISMATCH in _problems(forged)


def test_a_witness_checkpoint_from_another_history_is_a_fork() -> None:
    """A checkpoint of the same size with another root, held by a witness, is a fork."""
    other = [b.replace(b'"op"', b'"evil"') for b in _log()]
    witness = sign(5, TreeLevels.of([leaf_hash(b) for b in other]).root())
    assert Problem.FORK in _problems(_bundle("acme"), trusted=[witness])
    assert Problem.FORK in _problems(_bundle(None), trusted=[witness])


def test_a_newer_head_must_extend_the_bundle() -> None:
    """A bundle of an older state carries a proof that the log still extends it."""
    bodies = _log()
    levels = TreeLevels.of([leaf_hash(b) for b in bodies])
    older = dataclasses.replace(_bundle(None, size=3), generation=None, snapshot=None)
    latest = sign(5, levels.root(5))
    proof = prove_consistency(MemoryNodes(levels), 3, 5)
    good = dataclasses.replace(older, latest=latest, latest_proof=proof).sign(SIGNER)
    assert verify_bundle(good, public_key=SIGNER.public_key()).ok
    rewritten = sign(5, TreeLevels.of([leaf_hash(b + b" ") for b in bodies]).root())
    bad = dataclasses.replace(older, latest=rewritten, latest_proof=proof).sign(SIGNER)
    assert Problem.FORK in _problems(bad)


def _numbered(skip: int | None) -> Bundle:
    """acme's view of a log where acme's entries are numbered 0..3; ``skip`` is left out."""
    bodies = [_entry(i, "acme" if i % 2 else "beta", number=i // 2) for i in range(8)]
    levels = TreeLevels.of([leaf_hash(b) for b in bodies])
    head = sign(8, levels.root())
    source = MemoryNodes(levels)
    entries = tuple(
        BundleEntry(i, b, prove_inclusion(source, i, 8).path)
        for i, b in enumerate(bodies)
        if i % 2 and i // 2 != skip
    )
    return Bundle(scope="acme", head=head, entries=entries).sign(SIGNER)


def test_a_complete_numbered_view_verifies() -> None:
    """The legitimate flow: the tenant's entries 0..3, all there, all proven."""
    assert verify_bundle(_numbered(None), public_key=SIGNER.public_key()).ok


@pytest.mark.parametrize("skip", [0, 1, 2])
def test_an_entry_kept_out_of_a_view_is_noticed(skip: int) -> None:
    """The attack: a view that leaves out one of the tenant's entries (every other entry still
    proves); the gap in the tenant's numbers shows it."""
    verdict = verify_bundle(_numbered(skip), public_key=SIGNER.public_key())
    assert Problem.VIEW_INCOMPLETE in {f.problem for f in verdict.findings}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("nope", "not JSON"),
        ("{}", "bundle: missing field 'format'"),
        ('{"format": "other"}', "bundle.format"),
    ],
)
def test_a_malformed_bundle_is_refused_with_its_place(text: str, where: str) -> None:
    """A bundle that is not one raises InputError naming where, never a crash."""
    with pytest.raises(InputError, match=where):
        Bundle.loads(text)


def test_a_bundle_with_a_bad_entry_field_names_it() -> None:
    """Deep fields are located too (bundle.entries[0].seq)."""
    data = json.loads(_bundle("acme").dumps())
    data["entries"][0]["seq"] = "one"
    with pytest.raises(InputError, match=r"bundle\.entries\[0\]\.seq"):
        Bundle.from_json(data)
