"""API latency and throughput against the real server over HTTPS, with an httpx async load tool.

Scenarios (each against a naive peer measured in the same run):
  reads     GET one guest as a tenant admin      vs  GET /healthz (TLS + HTTP, no auth, no service)
  lists     GET /v1/guest?limit=100               vs  the same /healthz floor
  applies   POST /v1/apply (one policy changed)   vs  Service.apply of the same change in-process
  neighbour tenant B's reads while tenant A floods (A is rate-limited) vs B's reads alone
  oracle    404 for another tenant's guest vs 404 for a missing name (timing of the refusal)

Run:  PYTHONPATH=src:. python bench/bench_api.py [--seconds 10] [--json out.json]
The load generator and the server share the machine; figures are for the pair.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import ssl
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.helpers.server import Person, RunningServer, running_server

from tenantry.governance import Actor
from tenantry.model import Kind, Ref
from tenantry.service import Service
from tenantry.spec import load_spec_text, load_specs

DEMO = Path(__file__).resolve().parents[1] / "examples" / "specs" / "demo.yaml"


@dataclass
class Sample:
    """Latencies (seconds) and status counts of one scenario."""

    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.latencies),
            "per_second": round(self.rate, 1),
            "p50_ms": round(self.quantile(0.50), 2),
            "p99_ms": round(self.quantile(0.99), 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


async def load(
    name: str,
    client: httpx.AsyncClient,
    send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    *,
    workers: int,
    seconds: float,
    pace: float = 0.0,
) -> Sample:
    """``workers`` concurrent loops calling ``send`` for ``seconds`` (each waiting ``pace``
    seconds between its requests)."""
    sample = Sample(name, seconds)
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await send(client, next(counter))
            sample.latencies.append(time.perf_counter() - started)
            sample.statuses[response.status_code] = sample.statuses.get(response.status_code, 0) + 1
            if pace:
                await asyncio.sleep(pace)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return sample


def machine() -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    memory = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "?",
    )
    return {
        "lscpu": "\n".join(lscpu.splitlines()[:10]),
        "memory": memory,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def tenant_spec(service: Service, tenant: str, policy: str, marker: str) -> str:
    """The tenant's own part of the estate with one policy's description changed."""
    estate = service.snapshot().estate
    tenant_obj = estate.tenant(tenant)
    chosen = estate.get(Kind.POLICY, Ref(tenant, policy))
    assert tenant_obj is not None
    assert chosen is not None
    body = {**chosen.model_dump(mode="json"), "description": marker}
    return json.dumps(
        {"version": 1, "tenants": [{**tenant_obj.model_dump(mode="json"), "policies": [body]}]}
    )


def first_owned(service: Service, kind: Kind, tenant: str) -> Ref:
    return next(
        ref for ref, _ in sorted(service.snapshot().estate.items(kind)) if ref.owner == tenant
    )


@dataclass
class Site:
    """A running server seeded with the demo estate, and what the scenarios aim at."""

    server: RunningServer
    a: str
    b: str
    tokens: dict[str, str]
    path_a: str
    path_b: str
    policy_a: str

    def client(self, who: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.AsyncClient(
            base_url=self.server.url,
            verify=self.server.ssl_context(),
            headers=headers,
            timeout=30,
            limits=httpx.Limits(max_connections=32),
        )


@contextmanager
def site(tmp: Path, rate: int) -> Iterator[Site]:
    """`tenantry serve` over the demo estate, each tenant allowed ``rate`` requests/s."""
    estate = load_specs([DEMO]).estate
    a, b = sorted(ref.name for ref, _ in estate.items(Kind.TENANT))[:2]
    people = [Person("ta", tenant=a), Person("tb", tenant=b)]
    env = {
        "TENANTRY_TENANT_REQUESTS_PER_SECOND": str(rate),
        "TENANTRY_TENANT_REQUEST_BURST": str(rate),
    }
    with running_server(tmp, people=people, estate=estate, env=env) as server:
        with closing(server.service()) as service:
            guest_a = first_owned(service, Kind.GUEST, a)
            guest_b = first_owned(service, Kind.GUEST, b)
            policy_a = first_owned(service, Kind.POLICY, a)
        tokens = {}
        for name, tenant in (("ta", a), ("tb", b)):
            with server.client(server.login(name, tenant)) as client:
                tokens[name] = client.post(
                    "/v1/tokens", json={"name": "bench", "expires_in": 3600}
                ).json()["token"]
        yield Site(
            server,
            a,
            b,
            tokens,
            f"/v1/guest/{guest_a.owner}/{guest_a.name}",
            f"/v1/guest/{guest_b.owner}/{guest_b.name}",
            policy_a.name,
        )


async def throughput(place: Site, seconds: float) -> list[Sample]:
    """Reads, lists, applies and 404s, against their peers."""
    async with place.client(None) as anonymous, place.client("ta") as ta:
        await anonymous.get("/healthz")
        await ta.get(place.path_a)
        floor = await load(
            "healthz", anonymous, lambda c, i: c.get("/healthz"), workers=8, seconds=seconds
        )
        reads = await load(
            "get guest", ta, lambda c, i: c.get(place.path_a), workers=8, seconds=seconds
        )
        lists = await load(
            "list guests",
            ta,
            lambda c, i: c.get("/v1/guest?limit=100"),
            workers=8,
            seconds=seconds,
        )
        with closing(place.server.service()) as service:
            specs = [
                tenant_spec(service, place.a, place.policy_a, f"bench {i}") for i in range(5000)
            ]
        applies = await load(
            "apply",
            ta,
            lambda c, i: c.post(
                "/v1/apply",
                content=specs[i % len(specs)],
                headers={"Content-Type": "application/json"},
            ),
            workers=4,
            seconds=seconds,
        )
        foreign = await load(
            "404 foreign", ta, lambda c, i: c.get(place.path_b), workers=4, seconds=seconds / 2
        )
        missing = await load(
            "404 missing",
            ta,
            lambda c, i: c.get(f"/v1/guest/{place.b}/no-such-guest"),
            workers=4,
            seconds=seconds / 2,
        )
    # The naive peer of an apply over HTTPS: the same change, in-process, one at a time.
    direct = Sample("Service.apply in-process", seconds)
    with closing(place.server.service()) as service:
        operator = Actor.local_operator()
        started, count = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            t0 = time.perf_counter()
            declared = load_spec_text(specs[(count + 7) % len(specs)], check=False).estate
            service.apply(operator, declared)
            direct.latencies.append(time.perf_counter() - t0)
            direct.statuses[200] = direct.statuses.get(200, 0) + 1
            count += 1
    return [floor, reads, lists, applies, direct, foreign, missing]


def _flood(target: tuple[str, str, str, str], seconds: float, out: Any) -> None:
    """Tenant A's flood (url, certificate, token, path), in its own process so that it does
    not share B's event loop."""
    url, cert, token, path = target

    async def go() -> Sample:
        context = ssl.create_default_context(cafile=cert)
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(
            base_url=url, verify=context, headers=headers, timeout=30, limits=limits
        ) as client:
            return await load(
                "A flooding", client, lambda c, i: c.get(path), workers=16, seconds=seconds
            )

    out.put(asyncio.run(go()))


async def neighbours(place: Site, seconds: float) -> list[Sample]:
    """Tenant B's paced reads (about 20/s) alone, then beside tenant A flooding past its rate."""
    async with place.client("tb") as tb:
        alone = await load(
            "B alone", tb, lambda c, i: c.get(place.path_b), workers=1, seconds=seconds, pace=0.05
        )
        queue: multiprocessing.Queue[Sample] = multiprocessing.Queue()
        flood = multiprocessing.Process(
            target=_flood,
            args=(
                (place.server.url, str(place.server.cert), place.tokens["ta"], place.path_a),
                seconds + 1,
                queue,
            ),
        )
        flood.start()
        await asyncio.sleep(0.5)
        crowded = await load(
            "B beside A",
            tb,
            lambda c, i: c.get(place.path_b),
            workers=1,
            seconds=seconds,
            pace=0.05,
        )
        flooded = queue.get()
        flood.join()
        return [alone, crowded, flooded]


async def run(seconds: float, neighbour_rate: int) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine()}
    samples: dict[str, Sample] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with site(Path(tmp) / "open", rate=100_000) as place:
            results["tenants"] = [place.a, place.b]
            samples.update({s.name: s for s in await throughput(place, seconds)})
        with site(Path(tmp) / "metered", rate=neighbour_rate) as place:
            samples.update({s.name: s for s in await neighbours(place, seconds)})
    results.update({name: sample.summary() for name, sample in samples.items()})
    results["neighbour_rate_limit_per_second"] = neighbour_rate
    results["ratios"] = {
        "get guest / healthz (throughput)": _ratio(samples["get guest"], samples["healthz"]),
        "list guests / healthz (throughput)": _ratio(samples["list guests"], samples["healthz"]),
        "apply over HTTPS / in-process apply (throughput)": _ratio(
            samples["apply"], samples["Service.apply in-process"]
        ),
        "B p99 beside A / B p99 alone": round(
            samples["B beside A"].quantile(0.99) / samples["B alone"].quantile(0.99), 2
        ),
        "404 foreign p50 / 404 missing p50": round(
            statistics.median(samples["404 foreign"].latencies)
            / statistics.median(samples["404 missing"].latencies),
            2,
        ),
    }
    return results


def _ratio(sample: Sample, peer: Sample) -> float:
    return round(sample.rate / peer.rate, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--neighbour-rate", type=int, default=50, help="tenant requests/s")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = asyncio.run(run(args.seconds, args.neighbour_rate))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
