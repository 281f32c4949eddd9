"""OVN backend benchmarks (never asserted): Northbound write rate against ovn-nbctl peers,
onboarding a host's 3,200 vNICs, one tenant's policy change, logical flows per vNIC.

    PYTHONPATH=src:. python -m bench.bench_ovn push --rows 5000
    PYTHONPATH=src:. python -m bench.bench_ovn onboard
    PYTHONPATH=src:. python -m bench.bench_ovn policy --vnics 10000 --changes 20
    PYTHONPATH=src:. python -m bench.bench_ovn flows --vnics 1000 10000 50000
    PYTHONPATH=src:. python -m bench.bench_ovn all     # everything, JSON in bench/results/ovn.json

Each measurement starts its own OVN central (NB, SB, northd) under /tmp and stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.estates import estate_of_shape
from tenantry.compiler import compile_estate, recompile
from tenantry.dataplane.ovn import NorthboundClient, OvnBackend, OvnDeployment
from tenantry.dataplane.ovn.rows import Row
from tenantry.model import Change, ChangeSet, Kind, Op, Policy

RESULTS = Path(__file__).parent / "results" / "ovn.json"


@contextlib.contextmanager
def central() -> Iterator[OvnDeployment]:
    with tempfile.TemporaryDirectory(prefix="bovn", dir="/tmp") as rundir:
        deployment = OvnDeployment(Path(rundir))
        deployment.start()
        try:
            yield deployment
        finally:
            deployment.stop()


def _nbctl(deployment: OvnDeployment, args: list[str]) -> None:
    subprocess.run(
        ["ovn-nbctl", f"--db={deployment.nb_remote}", "--no-wait", *args],
        check=True,
        capture_output=True,
    )


def _ports(rows: int) -> list[tuple[str, str, str]]:
    """(switch, port, "MAC IP") for ``rows`` ports on switches of 100 ports."""
    found = []
    for i in range(rows):
        mac = (
            f"02:00:{(i >> 24) & 255:02x}:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"
        )
        found.append(
            (f"sw{i // 100}", f"port{i}", f"{mac} 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}")
        )
    return found


def bench_push(rows: int, peer_sample: int) -> dict[str, Any]:
    """Rows written per second: tenantry (one transaction), ovn-nbctl per row, one ovn-nbctl."""
    ports = _ports(rows)
    switches = sorted({s for s, _, _ in ports})
    operations = rows + len(switches)
    by_switch: dict[str, list[Row]] = {s: [] for s in switches}
    for switch, port, address in ports:
        by_switch[switch].append(
            Row("Logical_Switch_Port", port, {"addresses": [address], "port_security": [address]})
        )
    desired = [
        Row("Logical_Switch", f"b/{s}", {"name": s}, {"ports": tuple(by_switch[s])})
        for s in switches
    ]
    result: dict[str, Any] = {"rows": operations}
    with central() as deployment:
        client = NorthboundClient(deployment.nb_remote)
        start, cpu = time.perf_counter(), time.process_time()
        client.reconcile(desired, bump_nb_cfg=False)
        elapsed = time.perf_counter() - start
        result["tenantry_cpu_seconds"] = time.process_time() - cpu
        # The replica receives the rows in the background; the next read waits for it.
        client.settle(120)
        result["replica_caught_up_seconds"] = time.perf_counter() - start
        result["drift_after_push"] = len(client.drift(desired))
        client.close()
        result["tenantry_seconds"] = elapsed
        result["tenantry_rows_per_second"] = operations / elapsed
    with central() as deployment:
        # The peer: one ovn-nbctl process per row (its switch first), on the first rows only.
        sample = ports[:peer_sample]
        start = time.perf_counter()
        done_switches: set[str] = set()
        count = 0
        for switch, port, address in sample:
            if switch not in done_switches:
                _nbctl(deployment, ["ls-add", switch])
                done_switches.add(switch)
                count += 1
            _nbctl(deployment, ["lsp-add", switch, port, "--", "lsp-set-addresses", port, address,
                                "--", "lsp-set-port-security", port, address])  # fmt: skip
            count += 1
        elapsed = time.perf_counter() - start
        result["per_row_nbctl_rows"] = count
        result["per_row_nbctl_rows_per_second"] = count / elapsed
    with central() as deployment:
        args: list[str] = []
        for switch in switches:
            args += ["--", "ls-add", switch]
        for switch, port, address in ports:
            args += ["--", "lsp-add", switch, port, "--", "lsp-set-addresses", port, address,
                     "--", "lsp-set-port-security", port, address]  # fmt: skip
        start = time.perf_counter()
        _nbctl(deployment, args[1:])
        elapsed = time.perf_counter() - start
        result["one_nbctl_seconds"] = elapsed
        result["one_nbctl_rows_per_second"] = operations / elapsed
    result["ratio_vs_per_row"] = (
        result["tenantry_rows_per_second"] / result["per_row_nbctl_rows_per_second"]
    )
    result["ratio_vs_one_transaction"] = (
        result["one_nbctl_rows_per_second"] / result["tenantry_rows_per_second"]
    )
    return result


def bench_onboard(guests: int = 320, vnics: int = 10) -> dict[str, Any]:
    """One host's vNICs: translate and write them (one transaction), until northd has them."""
    estate = estate_of_shape(tenants=32, hosts=1, guests_per_host=guests, vnics_per_guest=vnics)
    start = time.perf_counter()
    programs = compile_estate(estate)
    compiled = time.perf_counter() - start
    with central() as deployment:
        backend = OvnBackend(deployment.nb_remote, wait_for_chassis=False)
        start, cpu = time.perf_counter(), time.process_time()
        backend.apply(programs)
        committed = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
        backend.client.wait_for_chassis(300)  # --wait=hv: northd has computed the flows
        elapsed = time.perf_counter() - start
        rows = len(backend.last_changes)
        backend.close()
    vnic_count = int(programs.live_rows().size)
    return {
        "vnics": vnic_count,
        "compile_seconds": compiled,
        "translate_and_commit_seconds": committed,
        "translate_and_commit_cpu_seconds": cpu_seconds,
        "apply_seconds": elapsed,
        "root_rows_created": rows,
        "per_row_peer_estimate_seconds": None,
    }


def _changed_policy(estate: Any, tenant: str, serial: int) -> ChangeSet:
    ref = next(r for r in estate.policies if r.owner == tenant)
    before: Policy = estate.policies[ref]
    rules = list(before.rules)
    first = rules[0]
    rules[0] = (
        first.model_copy(update={"ports": ((1000 + serial, 1000 + serial),)})
        if first.ports
        else first.model_copy(update={"log": not first.log})
    )
    after = before.model_copy(update={"rules": tuple(rules)})
    return ChangeSet((Change(Op.UPDATE, Kind.POLICY, ref, before, after),))


def bench_policy(vnics: int, changes: int) -> dict[str, Any]:
    """One tenant's policy change: recompile, apply the delta, northd done; vs full resync."""
    tenants = max(1, vnics // 100)
    estate = estate_of_shape(
        tenants=tenants,
        hosts=max(1, vnics // 3200),
        guests_per_host=min(320, vnics // 10),
        vnics_per_guest=10,
    )
    programs = compile_estate(estate)
    timings = []
    written = []
    compiled = []
    full = []
    with central() as deployment:
        backend = OvnBackend(deployment.nb_remote, wait_for_chassis=False)
        backend.apply(programs)
        backend.client.wait_for_chassis(300)
        current, current_estate = programs, estate
        for serial in range(changes):
            tenant = f"t{serial % tenants:05d}"
            change = _changed_policy(current_estate, tenant, serial)
            start = time.perf_counter()
            updated, delta = recompile(current, current_estate, change)
            compiled.append(time.perf_counter() - start)
            backend.apply(updated, delta)
            written.append(time.perf_counter() - start)
            backend.client.wait_for_chassis(300)
            timings.append(time.perf_counter() - start)
            current, current_estate = updated, current_estate.with_changes(change)
        for _ in range(3):
            start = time.perf_counter()
            backend.apply(current)
            full.append(time.perf_counter() - start)
        backend.close()
    timings.sort()
    written.sort()
    return {
        "vnics": int(programs.live_rows().size),
        "changes": changes,
        "recompile_p50_ms": 1000 * statistics.median(compiled),
        "nb_committed_p50_ms": 1000 * statistics.median(written),
        "nb_committed_p99_ms": 1000 * written[min(len(written) - 1, int(0.99 * len(written)))],
        "northd_done_p50_ms": 1000 * statistics.median(timings),
        "northd_done_p99_ms": 1000 * timings[min(len(timings) - 1, int(0.99 * len(timings)))],
        "full_reconcile_ms": 1000 * statistics.median(full),
        "ratio_full_vs_incremental": statistics.median(full) / statistics.median(written),
    }


def bench_flows(vnics: int) -> dict[str, Any]:
    """Logical flows northd computes, per vNIC, for an estate of this many vNICs."""
    estate = estate_of_shape(
        tenants=max(1, vnics // 100),
        hosts=max(1, vnics // 3200),
        guests_per_host=min(320, max(1, vnics // 10)),
        vnics_per_guest=10,
    )
    programs = compile_estate(estate)
    with central() as deployment:
        backend = OvnBackend(deployment.nb_remote, timeout=1800)
        start = time.perf_counter()
        backend.apply(programs)
        elapsed = time.perf_counter() - start
        backend.close()
        # northd may still be writing the Southbound when hv_cfg moves with no chassis
        _settle_southbound(deployment)
        out = _uuids("ovn-sbctl", deployment.sb_remote, "Logical_Flow")
        acls = _uuids("ovn-nbctl", deployment.nb_remote, "ACL")
    count = sum(1 for line in out.splitlines() if line.strip())
    acl_count = sum(1 for line in acls.splitlines() if line.strip())
    live = int(programs.live_rows().size)
    return {
        "vnics": live,
        "policies": sum(1 for p in programs.policies if p is not None),
        "acls": acl_count,
        "logical_flows": count,
        "logical_flows_per_vnic": count / live,
        "apply_and_northd_seconds": elapsed,
    }


def _settle_southbound(deployment: OvnDeployment, quiet: float = 5.0, limit: float = 900.0) -> None:
    """Until the Southbound's logical flow count stops changing for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(_uuids("ovn-sbctl", deployment.sb_remote, "Logical_Flow").split())
        if count != last:
            last, since = count, time.monotonic()
        elif count and time.monotonic() - since >= quiet:
            return
        time.sleep(1.0)


def _uuids(tool: str, remote: str, table: str) -> str:
    return subprocess.run(
        [tool, f"--db={remote}", "--bare", "--columns=_uuid", "list", table],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    push = sub.add_parser("push")
    push.add_argument("--rows", type=int, default=5000)
    push.add_argument("--peer-sample", type=int, default=300)
    sub.add_parser("onboard")
    policy = sub.add_parser("policy")
    policy.add_argument("--vnics", type=int, default=10000)
    policy.add_argument("--changes", type=int, default=20)
    flows = sub.add_parser("flows")
    flows.add_argument("--vnics", type=int, nargs="+", default=[1000, 10000, 50000])
    sub.add_parser("all")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.what in ("push", "all"):
        results["push"] = bench_push(getattr(args, "rows", 5000), getattr(args, "peer_sample", 300))
    if args.what in ("onboard", "all"):
        results["onboard"] = bench_onboard()
    if args.what in ("policy", "all"):
        results["policy"] = bench_policy(
            getattr(args, "vnics", 10000), getattr(args, "changes", 20)
        )
    if args.what in ("flows", "all"):
        results["flows"] = [bench_flows(n) for n in getattr(args, "vnics", [1000, 10000, 50000])]
    print(json.dumps(results, indent=2))
    if args.what == "all":
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
