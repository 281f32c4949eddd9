"""Row 18: tier precedence on OVN 23.03's priority bands, with pass emulated, for every
combination of provider (none, allow, deny, pass) x tenant (none, allow, deny) x baseline
(allow, deny) rules on one flow: OVN's verdict, the reference's and the rule agree."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.compiler import compile_estate
from tenantry.dataplane import Disposition
from tenantry.dataplane.ovn import OvnBackend, OvnDeployment, OvnTracer
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.spec import load_specs
from tests.helpers.dataplane import Ports
from tests.helpers.estates import EXAMPLES

PROVIDER = ["none", "allow", "deny", "pass"]
TENANT = ["none", "allow", "deny"]
BASELINE = ["allow", "deny"]


def _rule(action: str) -> str:
    return f"      - {{action: {action}, direction: ingress, protocol: tcp, ports: [443]}}\n"


def _spec(provider: str, tenant: str, baseline: str) -> str:
    """two-tenants with its policies replaced by one rule per tier on acme/a2's ingress."""
    text = (EXAMPLES / "two-tenants.yaml").read_text()
    policies = "policies:\n"
    if provider != "none":
        policies += (
            "  - name: p-mandatory\n    tier: provider\n    order: 10\n"
            "    applies_to: {tenants: [acme], tags: [web]}\n    rules:\n" + _rule(provider)
        )
    policies += (
        "  - name: p-baseline\n    tier: baseline\n    order: 10\n"
        "    applies_to: {tenants: [acme], tags: [web]}\n    rules:\n" + _rule(baseline)
    )
    head, rest = text.split("\npolicies:\n", 1)
    rest = rest[rest.index("\ntenants:\n") :]
    tenant_policy = ""
    if tenant != "none":
        tenant_policy = (
            "    policies:\n      - name: t-web\n        tier: tenant\n        order: 100\n"
            "        applies_to: {tags: [web]}\n        rules:\n"
            f"          - {{action: {tenant}, direction: ingress, protocol: tcp, ports: [443]}}\n"
            "          - {action: allow, direction: egress, protocol: tcp, ports: [443]}\n"
        )
    else:
        tenant_policy = (
            "    policies:\n      - name: t-web\n        tier: tenant\n        order: 100\n"
            "        applies_to: {tags: [web]}\n        rules:\n"
            "          - {action: allow, direction: egress, protocol: tcp, ports: [443]}\n"
        )
    acme, bravo = rest.split("\n  - name: bravo\n", 1)
    acme = acme[: acme.index("\n    policies:\n")] + "\n" + tenant_policy.rstrip("\n")
    return head + "\n" + policies + acme + "\n  - name: bravo\n" + bravo


def _expected(provider: str, tenant: str, baseline: str) -> bool:
    for decision in (provider, tenant, baseline):
        if decision in ("allow", "deny"):
            return decision == "allow"
    return False  # acme/app's default action is deny


@pytest.fixture(scope="module")
def ovn(ovn_central: OvnDeployment) -> Iterator[OvnBackend]:
    backend = OvnBackend(ovn_central.nb_remote)
    backend.tracer = OvnTracer(ovn_central.sb_remote, ovn_central.rundir)
    yield backend
    backend.close()


@pytest.mark.parametrize(
    ("provider", "tenant", "baseline"), list(itertools.product(PROVIDER, TENANT, BASELINE))
)
def test_tier_precedence_is_the_same_on_ovn_and_the_reference(
    ovn: OvnBackend, tmp_path: Path, provider: str, tenant: str, baseline: str
) -> None:
    """A tcp/443 flow between two web vNICs of acme is allowed exactly as the tiers say."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(provider, tenant, baseline))
    programs = compile_estate(load_specs([spec]).estate)
    ovn.apply(programs)
    frame = Ports(programs).tcp("acme/a1/eth0", "acme/a2/eth0", 443)
    row = programs.port_row("acme/a2/eth0")
    reference = ReferenceBackend(programs).classify(frame, "acme/a1/eth0")
    got = ovn.classify(frame, "acme/a1/eth0")
    want = _expected(provider, tenant, baseline)
    assert (reference.action is Disposition.FORWARD and row in reference.egress) is want
    assert (got.action is Disposition.FORWARD and row in got.egress) is want, got
