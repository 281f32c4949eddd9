"""Audit log benchmarks: durable appends, verification of a large log, proofs.

Each figure comes with a naive peer measured in the same run:

- appends: group commit (AuditAppender, one transaction and one signed head per batch)
  against one transaction per entry (Service.record), both durable (SQLite WAL,
  synchronous=FULL: every commit is fsynced);
- verification: the whole log recomputed from its entries (every body rehashed, every
  head checked), and the root alone from the stored leaf hashes; peer: the RFC 9162
  definition of MTH evaluated recursively;
- proofs: an inclusion proof from the stored tiles; peer: rebuilding the tree from every
  stored leaf hash for each proof.

    PYTHONPATH=src python bench/bench_audit.py [--entries 1000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

from tenantry.audit import (
    AuditRecord,
    Ed25519Signer,
    MemoryNodes,
    Outcome,
    TreeLevels,
    prove_consistency,
    prove_inclusion,
)
from tenantry.governance import Actor
from tenantry.service import Service

TENANTS = [f"tenant-{i:05d}" for i in range(40)]


def records(count: int, start: int = 0) -> list[AuditRecord]:
    """Login-like events spread over tenants, each different (a realistic body, ~280 bytes)."""
    epoch = datetime(2024, 5, 1, tzinfo=UTC)
    return [
        AuditRecord(
            actor=f"user-{i % 997}",
            source=f"10.{i % 250}.{i % 199}.{i % 97}",
            action="login",
            outcome=Outcome.SUCCEEDED,
            targets=(f"user user-{i % 997}",),
            tenants=(TENANTS[i % len(TENANTS)],),
            details={"session": f"{i:016x}"},
            time=epoch + timedelta(microseconds=i),
        )
        for i in range(start, start + count)
    ]


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and process CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_appends(workdir: Path, group_count: int, naive_count: int) -> dict[str, float]:
    signer = Ed25519Signer.generate()
    grouped = Service.open(f"sqlite:///{workdir / 'group.db'}", signer=signer)
    batch = records(group_count)

    def group() -> None:
        with grouped.audit.appender(batch_size=10_000) as appender:
            for record in batch:
                appender.add(record)

    wall, cpu = timed(group)
    assert grouped.audit.verify().ok
    grouped.close()

    naive = Service.open(f"sqlite:///{workdir / 'naive.db'}", signer=signer)
    actor = Actor(name="user", tenant=TENANTS[0], source="10.0.0.1")
    singles = records(naive_count)

    def one_by_one() -> None:
        for record in singles:
            naive.record(actor, record.action, record.outcome, targets=record.targets,
                         tenant=record.tenants[0], details=record.details)  # fmt: skip

    naive_wall, naive_cpu = timed(one_by_one)
    naive.close()
    return {
        "group_commit_entries_per_s": group_count / wall,
        "group_commit_entries_per_cpu_s": group_count / cpu,
        "one_transaction_per_entry_entries_per_s": naive_count / naive_wall,
        "one_transaction_per_entry_entries_per_cpu_s": naive_count / naive_cpu,
        "ratio": (group_count / wall) / (naive_count / naive_wall),
    }


def mth(leaves: list[bytes], lo: int, hi: int) -> bytes:
    """RFC 9162 MTH, exactly as defined (recursive): the naive peer."""
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = 1 << ((n - 1).bit_length() - 1)
    return sha256(b"\x01" + mth(leaves, lo, lo + k) + mth(leaves, lo + k, hi)).digest()


def bench_large_log(workdir: Path, entries: int, proofs: int) -> dict[str, float]:
    signer = Ed25519Signer.generate()
    service = Service.open(f"sqlite:///{workdir / 'large.db'}", signer=signer)
    actor = Actor.local_operator()
    build_start = time.perf_counter()
    with service.audit.appender(batch_size=50_000) as appender:
        for start in range(0, entries, 100_000):
            for record in records(min(100_000, entries - start), start):
                appender.add(record)
    built = time.perf_counter() - build_start
    store = service.store

    results: dict[str, float] = {"entries": entries, "build_s": built}

    def best(action: Callable[[], object], runs: int = 3) -> tuple[float, float]:
        return min((timed(action) for _ in range(runs)), key=lambda t: t[0])

    def read_leaves() -> bytes:
        return store.leaf_hashes()

    wall, cpu = best(service.audit.verify)
    results |= {"verify_full_wall_s": wall, "verify_full_cpu_s": cpu}
    wall, cpu = best(lambda: TreeLevels(read_leaves()).root())
    results |= {
        "root_from_stored_leaf_hashes_wall_s": wall,
        "root_from_stored_leaf_hashes_cpu_s": cpu,
    }
    wall, cpu = best(read_leaves)
    results |= {"read_stored_leaf_hashes_wall_s": wall, "read_stored_leaf_hashes_cpu_s": cpu}
    stored = read_leaves()
    leaf_list = [stored[i : i + 32] for i in range(0, 32 * entries, 32)]
    heads = [h.size for h in store.audit_heads()]
    wall, cpu = best(lambda: TreeLevels(stored).root())
    results |= {"root_in_memory_wall_s": wall, "root_in_memory_cpu_s": cpu}

    def check_every_head() -> None:
        levels = TreeLevels(stored)
        for size in heads:
            levels.root(size)

    def recompute_every_head() -> None:
        for size in heads:
            mth(leaf_list, 0, size)

    ours = best(check_every_head)[1]
    peer = best(recompute_every_head, runs=1)[1]
    results |= {
        "signed_heads": len(heads),
        "check_every_head_cpu_s": ours,
        "recompute_every_head_recursive_cpu_s": peer,
        "head_check_ratio": peer / ours,
    }

    rng = random.Random(7)
    seqs = [rng.randrange(entries) for _ in range(proofs)]
    tiles = [timed(lambda s=s: prove_inclusion(store, s, entries))[0] for s in seqs]  # type: ignore[misc]
    tiles_cpu = [timed(lambda s=s: prove_inclusion(store, s, entries))[1] for s in seqs]  # type: ignore[misc]
    served = [timed(lambda s=s: service.audit.prove(actor, s))[0] for s in seqs]  # type: ignore[misc]
    old = [rng.randrange(1, entries) for _ in range(proofs)]
    consistency = [timed(lambda o=o: prove_consistency(store, o, entries))[0] for o in old]  # type: ignore[misc]

    def rebuild_and_prove() -> None:
        prove_inclusion(MemoryNodes(TreeLevels(read_leaves())), seqs[0], entries)

    naive = min(timed(rebuild_and_prove)[0] for _ in range(2))
    results |= {
        "inclusion_proof_median_ms": statistics.median(tiles) * 1000,
        "inclusion_proof_median_cpu_ms": statistics.median(tiles_cpu) * 1000,
        "inclusion_proof_p99_ms": sorted(tiles)[int(len(tiles) * 0.99) - 1] * 1000,
        "service_prove_median_ms": statistics.median(served) * 1000,
        "consistency_proof_median_ms": statistics.median(consistency) * 1000,
        "inclusion_proof_rebuild_peer_ms": naive * 1000,
        "inclusion_proof_ratio": naive / statistics.median(tiles),
    }
    service.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=200_000)
    parser.add_argument("--naive-appends", type=int, default=2_000)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tenantry-bench-audit-") as tmp:
        workdir = Path(tmp)
        results = {
            "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
            "appends": bench_appends(workdir, args.appends, args.naive_appends),
            "large_log": bench_large_log(workdir, args.entries, args.proofs),
        }
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
