"""Classifier benchmarks: scalar and batch verdicts at 10 tenants and at seed scale, against a
linear-scan peer that judges each packet by walking every rule installed in the estate.

    PYTHONPATH=src:. python -m bench.bench_classify all            # both sizes, JSON out
    PYTHONPATH=src:. python -m bench.bench_classify run --tenants 10
    PYTHONPATH=src:. python -m bench.bench_classify run --scale 1.0

Never asserted: results go to stdout (and bench/results/classify.json with ``all``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.estates import estate_of_shape, seed_estate
from tenantry.compiler import ANY_PROTOCOL, PeerKind, Programs, compile_estate
from tenantry.dataplane.probe import build_probe
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.dataplane.reference._kernel import probe_kernel
from tenantry.model import Action, Direction

RESULTS = Path(__file__).parent / "results"
FLOWS = 256
BATCH = 4096
WIDTH = 64


def _flows(programs: Programs, rng: random.Random) -> list[tuple[int, bytes]]:
    """Same-network TCP flows between random pairs of one tenant's vNICs (some allowed, some
    denied), as (ingress row, frame)."""
    ports = programs.ports
    live = programs.live_rows()
    tenant_rows = live[ports.owner[live] != 0]
    flows: list[tuple[int, bytes]] = []
    while len(flows) < FLOWS:
        a = int(rng.choice(tenant_rows))
        peers = tenant_rows[
            (ports.owner[tenant_rows] == ports.owner[a])
            & (ports.segment[tenant_rows] == ports.segment[a])
            & (tenant_rows != a)
        ]
        if not len(peers):
            continue
        b = int(rng.choice(peers))
        probe = build_probe(
            programs,
            source=programs.port_name(a),
            to=programs.port_name(b),
            dport=rng.choice([80, 443, 5432, 8080]),
            sport=20000 + len(flows),
        )
        flows.append((probe.ingress, probe.frame))
    return flows


def _percentiles(samples: list[int]) -> tuple[float, float]:
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def _scalar(
    backend: ReferenceBackend, flows: list[tuple[int, bytes]], calls: int
) -> dict[str, float]:
    for row, frame in flows * 3:  # open the allowed connections, fill the cache
        backend.classify(frame, row)
    timer = time.perf_counter_ns
    overhead = []
    for _ in range(2000):
        start = timer()
        overhead.append(timer() - start)
    base = sorted(overhead)[len(overhead) // 2]
    samples = []
    classify = backend.classify
    for i in range(calls):
        row, frame = flows[i % len(flows)]
        start = timer()
        classify(frame, row)
        samples.append(timer() - start - base)
    p50, p99 = _percentiles(samples)
    forwarded = sum(backend.classify(f, r).action.value == "forward" for r, f in flows)
    start = time.thread_time_ns()
    for i in range(calls):
        row, frame = flows[i % len(flows)]
        classify(frame, row)
    cpu_mean = (time.thread_time_ns() - start) / calls
    return {
        "scalar_p50_ns": p50,
        "scalar_p99_ns": p99,
        "scalar_cpu_mean_ns": round(cpu_mean),
        "flows_forwarded": forwarded,
    }


def _first_packets(backend: ReferenceBackend, flows: list[tuple[int, bytes]]) -> dict[str, float]:
    """The full pipeline: every packet opens a new flow (a new source port), so no cache and
    no connection helps; allowed ones are judged both ways and tracked."""
    packets = []
    for row, template in flows[:64]:
        for sport in range(30000, 30100):
            frame = bytearray(template)
            frame[34:36] = sport.to_bytes(2, "big")
            packets.append((row, bytes(frame)))
    timer = time.perf_counter_ns
    samples = []
    for row, frame in packets:
        start = timer()
        backend.classify(frame, row)
        samples.append(timer() - start)
    p50, p99 = _percentiles(samples)
    return {"first_packet_p50_ns": p50, "first_packet_p99_ns": p99}


def _batch(
    backend: ReferenceBackend, flows: list[tuple[int, bytes]], rounds: int
) -> dict[str, float]:
    frames = np.zeros((BATCH, WIDTH), np.uint8)
    lengths = np.zeros(BATCH, np.int32)
    rows = np.zeros(BATCH, np.int32)
    for i in range(BATCH):
        row, frame = flows[i % len(flows)]
        cut = frame[:WIDTH]
        frames[i, : len(cut)] = np.frombuffer(cut, np.uint8)
        lengths[i] = len(frame)
        rows[i] = row
    for _ in range(3):
        result = backend.classify_batch(frames, lengths, rows)
    times = []
    cpu = []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        result = backend.classify_batch(frames, lengths, rows)
        times.append(time.perf_counter_ns() - start)
        cpu.append(time.thread_time_ns() - start_cpu)
    times.sort()
    cpu.sort()
    backend.batch.compiled = False
    numpy_times = []
    for _ in range(rounds):
        start = time.thread_time_ns()
        backend.classify_batch(frames, lengths, rows)
        numpy_times.append(time.thread_time_ns() - start)
    backend.batch.compiled = True
    numpy_times.sort()
    return {
        "batch_ns_per_packet": round(times[len(times) // 2] / BATCH, 1),
        "batch_cpu_ns_per_packet": round(cpu[len(cpu) // 2] / BATCH, 1),
        "batch_numpy_cpu_ns_per_packet": round(numpy_times[len(numpy_times) // 2] / BATCH, 1),
        "batch_kernel": probe_kernel is not None,
        "batch_hits": result.hits / BATCH,
    }


class LinearScan:
    """The peer: every rule of every policy in one list, scanned in order for each packet."""

    def __init__(self, programs: Programs) -> None:
        self.programs = programs
        members: dict[int, set[int]] = {}
        chain_column = programs.ports.chain
        live = programs.live_rows()
        order = live[np.argsort(chain_column[live], kind="stable")]
        bounds = np.flatnonzero(np.diff(chain_column[order])) + 1
        for group in np.split(order, bounds):
            if not len(group):
                continue
            chain = programs.chains[int(chain_column[group[0]])]
            if chain is None:
                continue
            rows = set(group.tolist())
            for pid in chain.policies:
                members.setdefault(pid, set()).update(rows)
        self.entries = []
        for policy in sorted(
            (p for p in programs.policies if p is not None), key=lambda p: p.sort_key
        ):
            applies = members.get(policy.id, set())
            for rule in policy.rules:
                self.entries.append((applies, rule))

    def judge(self, row: int, direction: Direction, proto: int, dport: int, peer: int) -> bool:
        for applies, rule in self.entries:
            if row not in applies or rule.direction is not direction:
                continue
            if rule.protocol not in (ANY_PROTOCOL, proto):
                continue
            if rule.ports and not any(lo <= dport <= hi for lo, hi in rule.ports):
                continue
            if rule.peer.kind is not PeerKind.ANY:
                aset = (
                    self.programs.address_sets[rule.peer.address_set]
                    if rule.peer.address_set >= 0
                    else None
                )
                if aset is not None and not aset.prefixes.contains_v4(peer):
                    continue
            if rule.action is not Action.PASS:
                return rule.action is Action.ALLOW
        return False


def _linear(programs: Programs, flows: list[tuple[int, bytes]], packets: int) -> dict[str, float]:
    scan = LinearScan(programs)
    timer = time.perf_counter_ns
    samples = []
    for i in range(packets):
        row, frame = flows[i % len(flows)]
        dst = int.from_bytes(frame[30:34], "big")
        dport = int.from_bytes(frame[36:38], "big")
        start = timer()
        scan.judge(row, Direction.EGRESS, 6, dport, dst)
        samples.append(timer() - start)
    p50, _p99 = _percentiles(samples)
    return {"linear_p50_ns": p50, "linear_rules": len(scan.entries)}


def run(tenants: int | None, scale: float | None) -> dict[str, Any]:
    """Build, compile and enforce one estate, then measure."""
    if scale is not None:
        estate = seed_estate(scale)
    else:
        estate = estate_of_shape(tenants=tenants or 10, hosts=1, guests_per_host=40)
    programs = compile_estate(estate)
    del estate
    gc.collect()
    started = time.perf_counter()
    backend = ReferenceBackend(programs)
    tables_s = time.perf_counter() - started
    gc.collect()
    gc.freeze()
    rng = random.Random(42)
    flows = _flows(programs, rng)
    result: dict[str, Any] = {
        "measure": "classify",
        "tenants": len(programs.owners) - 1,
        "ports": len(programs.live_rows()),
        "rules": programs.rule_count(),
        "tables_s": round(tables_s, 1),
    }
    result.update(_scalar(backend, flows, 50_000))
    result.update(_first_packets(backend, flows))
    result.update(_batch(backend, flows, 50))
    linear_packets = 20 if result["rules"] > 100_000 else 2000
    result.update(_linear(programs, flows, linear_packets))
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


def run_all() -> list[dict[str, Any]]:
    """10 tenants, then the seed, each in a fresh process; growth ratios at the end."""
    results = []
    for args in (["run", "--tenants", "10"], ["run", "--scale", "1.0"]):
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_classify", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    small, seed = results
    growth = {
        "measure": "growth (seed / 10 tenants)",
        "scalar_p50": round(seed["scalar_p50_ns"] / small["scalar_p50_ns"], 2),
        "first_packet_p50": round(seed["first_packet_p50_ns"] / small["first_packet_p50_ns"], 2),
        "batch": round(seed["batch_ns_per_packet"] / small["batch_ns_per_packet"], 2),
        "batch_cpu": round(seed["batch_cpu_ns_per_packet"] / small["batch_cpu_ns_per_packet"], 2),
        "linear_scan_p50": round(seed["linear_p50_ns"] / small["linear_p50_ns"], 1),
    }
    results.append(growth)
    print(json.dumps(growth), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "classify.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("measure", choices=["run", "all"])
    parser.add_argument("--tenants", type=int, default=None)
    parser.add_argument("--scale", type=float, default=None)
    args = parser.parse_args()
    if args.measure == "all":
        run_all()
        return
    print(json.dumps(run(args.tenants, args.scale)), flush=True)


if __name__ == "__main__":
    main()
