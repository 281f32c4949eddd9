"""Isolation proof at seed scale: 40,000 tenants, 512 hosts x 320 guests x 10 vNICs.

Programs are generated directly in the IR (columnar), as a backend's read-back would give
them: every tenant has four overlay networks joined by its router, nine vNICs per guest on
its own networks and one on the shared DNS segment (isolated consumers). Measures the whole
proof, a naive all-pairs peer (extrapolated from a sample of pairs), and re-verification
after one change (a vNIC moved between two networks of its tenant, and into another
tenant's network and back), p50/p99 over many changes, against a full re-proof.

    PYTHONPATH=src python bench/bench_verify.py [--tenants 40000] [--changes 2000]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import platform
import pstats
import random
import time
from dataclasses import replace
from ipaddress import IPv4Network

import numpy as np

from tenantry.compiler import (
    Chain,
    PortFlag,
    PortTable,
    Programs,
    RouterInterface,
    Segment,
    SegmentKind,
    VlanModeCode,
)
from tenantry.model import PROVIDER, DefaultAction, Ref
from tenantry.verify import IsolationState, PhysicalFacts

NETS = 4


def build(tenants: int, hosts: int, guests_per_host: int, vnics: int) -> Programs:
    """Seed-scale programs, generated column by column."""
    owners = (PROVIDER, *(f"t{i:05d}" for i in range(tenants)))
    segments: list[Segment | None] = [
        Segment(
            0,
            Ref(PROVIDER, "svc-dns"),
            SegmentKind.VLAN,
            "physnet1",
            250,
            (IPv4Network("100.64.0.0/10"),),
            (),
            DefaultAction.DENY,
            service="dns",
        ),
    ]
    routers = []
    for t in range(tenants):
        for n in range(NETS):
            sid = len(segments)
            net = IPv4Network(((10 << 24) | ((t * NETS + n) << 8), 24))
            gateway = net.network_address + 1
            segments.append(
                Segment(
                    sid,
                    Ref(owners[t + 1], f"n{n}"),
                    SegmentKind.OVERLAY,
                    "",
                    sid,
                    (net,),
                    (gateway,),
                    DefaultAction.DENY,
                )
            )
            routers.append(
                RouterInterface(
                    Ref(owners[t + 1], "r"),
                    sid,
                    f"0a:{t >> 8 & 255:02x}:{t & 255:02x}:00:00:{n:02x}",
                    (gateway,),
                    (net,),
                )
            )
    n_guests = hosts * guests_per_host
    guest = np.repeat(np.arange(n_guests, dtype=np.int32), vnics)
    owner_of_guest = (np.arange(n_guests) % tenants + 1).astype(np.int32)
    owner = owner_of_guest[guest]
    slot = np.tile(np.arange(vnics, dtype=np.int32), n_guests)
    tenant = owner - 1
    segment = np.where(slot == vnics - 1, 0, 1 + tenant * NETS + slot % NETS).astype(np.int32)
    n = len(guest)
    rows = np.arange(n, dtype=np.int64)
    host_of_guest = (np.arange(n_guests) // guests_per_host).astype(np.int32)
    v4 = np.where(
        segment == 0,
        (100 << 24) | (64 << 16) + rows,
        (10 << 24)
        | ((tenant.astype(np.int64) * NETS + slot % NETS) << 8)
        | (10 + (rows // (vnics * tenants)) * 3 + slot // NETS),
    ).astype(np.uint32)
    flags = np.where(segment == 0, PortFlag.SERVICE_CONSUMER, 0).astype(np.uint8)
    ports = PortTable(
        owner=owner,
        guest=guest,
        vnic_name=slot,
        kind=np.zeros(n, np.uint8),
        host=host_of_guest[guest],
        port_group=np.zeros(n, np.int32),
        segment=segment,
        vlan_mode=np.full(n, VlanModeCode.EST, np.uint8),
        mac=(np.uint64(0x020000000000) + rows.astype(np.uint64)),
        flags=flags,
        shaping=np.full(n, -1, np.int32),
        tagset=np.zeros(n, np.int32),
        chain=np.zeros(n, np.int32),
        live=np.ones(n, np.bool_),
        v4_offsets=np.arange(n + 1, dtype=np.int64),
        v4=v4,
        v6_offsets=np.zeros(n + 1, np.int64),
        v6=np.zeros((0, 2), np.uint64),
        trunk_offsets=np.zeros(n + 1, np.int64),
        trunk_vlans=np.zeros(0, np.uint16),
        trunk_segments=np.zeros(0, np.int32),
    )
    guests = tuple(Ref(owners[int(o)], f"g{i}") for i, o in enumerate(owner_of_guest.tolist()))
    return Programs(
        owners=owners,
        hosts=tuple(f"h{i:03d}" for i in range(hosts)),
        guests=guests,
        vnic_names=tuple(f"eth{i}" for i in range(vnics)),
        port_groups=("pg",),
        shapings=(),
        tagsets=(frozenset(),),
        segments=tuple(segments),
        ports=ports,
        routers=tuple(routers),
        policies=(),
        address_sets=(),
        chains=(Chain(0, ()),),
    )


def naive_pairs_per_second(programs: Programs, sample: int) -> float:
    """The naive peer: for each tenant pair, intersect the two tenants' segment sets."""
    ports = programs.ports
    by_owner: dict[int, set[int]] = {}
    consumer = (ports.flags & PortFlag.SERVICE_CONSUMER) != 0
    for o, s, c in zip(
        ports.owner.tolist(), ports.segment.tolist(), consumer.tolist(), strict=True
    ):
        if not c:
            by_owner.setdefault(o, set()).add(s)
    owners = sorted(by_owner)
    rng = random.Random(1)
    started = time.perf_counter()
    for _ in range(sample):
        a, b = rng.choice(owners), rng.choice(owners)
        if a != b and by_owner[a] & by_owner[b]:
            raise AssertionError("unexpected leak")
    return sample / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=40_000)
    parser.add_argument("--hosts", type=int, default=512)
    parser.add_argument("--guests-per-host", type=int, default=320)
    parser.add_argument("--vnics", type=int, default=10)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--profile", action="store_true", help="print where the update time goes (cProfile)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    programs = build(args.tenants, args.hosts, args.guests_per_host, args.vnics)
    print(
        f"generated {len(programs.ports):,} ports, {len(programs.segments):,} segments, "
        f"{len(programs.routers):,} router interfaces in {time.perf_counter() - started:.1f} s"
    )
    facts = PhysicalFacts()
    proofs = []
    for _ in range(3):
        started = time.perf_counter()
        state = IsolationState(programs, facts)
        proofs.append(time.perf_counter() - started)
        report = state.report()
    assert report.isolated, report.summary()
    proof = min(proofs)
    print(
        f"whole-estate proof: {proof:.2f} s "
        f"(best of 3: {', '.join(f'{p:.2f}' for p in proofs)}) -> {report.summary()}"
    )
    tenants = args.tenants
    rate = naive_pairs_per_second(programs, 200_000)
    naive = tenants * (tenants - 1) / 2 / rate
    print(
        f"naive all-pairs peer: {rate:,.0f} pairs/s -> {naive:,.0f} s for "
        f"{tenants * (tenants - 1) // 2:,} pairs "
        f"(extrapolated; {naive / proof:,.0f}x the proof)"
    )

    # the proof is a long-lived heap: keep the cyclic collector from rescanning it on every
    # allocation burst (what a service holding the state would do as well)
    gc.collect()
    gc.freeze()
    rng = random.Random(7)
    column = programs.ports.segment
    times: dict[str, list[float]] = {
        "move within tenant": [],
        "move into another tenant (leak) and back": [],
    }
    cpu: dict[str, list[float]] = {kind: [] for kind in times}
    profiler = cProfile.Profile() if args.profile else None
    current = programs
    for i in range(args.changes):
        row = rng.randrange(len(column))
        seg = int(current.ports.segment[row])
        if seg == 0:
            continue
        t = (seg - 1) // NETS
        if i % 2 == 0:
            target, kind = 1 + t * NETS + (seg - 1 + 1) % NETS, "move within tenant"
            edits = [target]
        else:
            other = (t + 1) % tenants
            target, kind = 1 + other * NETS, "move into another tenant (leak) and back"
            edits = [target, seg]
        for new_seg in edits:
            col = current.ports.segment.copy()
            col[row] = new_seg
            nxt = replace(current, ports=replace(current.ports, segment=col))
            if profiler is not None:
                profiler.enable()
            began, began_cpu = time.perf_counter(), time.thread_time()
            result = state.update(nxt, rows=[row])
            cpu[kind].append(time.thread_time() - began_cpu)
            times[kind].append(time.perf_counter() - began)
            if profiler is not None:
                profiler.disable()
            current = nxt
            if kind.startswith("move into") and new_seg == target:
                assert not result.isolated
        if kind == "move within tenant":
            col = current.ports.segment.copy()
            col[row] = seg
            current = replace(current, ports=replace(current.ports, segment=col))
            state.update(current, rows=[row])
    out = {"ports": len(programs.ports), "tenants": tenants, "proof_s": proof, "naive_s": naive}
    for kind, found in times.items():
        ms = np.array(found) * 1000
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(
            f"re-verify after one change ({kind}): p50 {p50:.3f} ms, p99 {p99:.3f} ms "
            f"over {len(ms)} "
            f"updates; full re-proof {proof * 1000:,.0f} ms ({proof * 1000 / p99:,.0f}x p99)"
        )
        cpu_ms = np.array(cpu[kind]) * 1000
        c50, c99 = np.percentile(cpu_ms, 50), np.percentile(cpu_ms, 99)
        print(f"  CPU time of the same updates: p50 {c50:.3f} ms, p99 {c99:.3f} ms")
        out[kind] = {
            "p50_ms": p50,
            "p99_ms": p99,
            "cpu_p50_ms": c50,
            "cpu_p99_ms": c99,
            "n": len(ms),
        }
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    out["machine"] = platform.platform()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
