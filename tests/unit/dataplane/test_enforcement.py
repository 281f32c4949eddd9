"""EnforcementHook: the service drives the reference backend after each commit."""

from __future__ import annotations

from pathlib import Path

from tenantry.dataplane import Disposition
from tenantry.dataplane.enforcement import EnforcementHook
from tenantry.dataplane.probe import build_probe
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.governance import Actor
from tenantry.model import Policy, Rule, Tier
from tenantry.service import Service
from tenantry.service.admission import STRUCTURAL_CHECKS
from tests.helpers.estates import example_estate, with_policies


def test_commit_compiles_and_enforces_the_new_estate(tmp_path: Path) -> None:
    """After apply, the backend enforces the committed estate; a policy change is incremental."""
    backend = ReferenceBackend()
    hook = EnforcementHook(backend)
    # two-tenants.yaml leaks on purpose (bridged guests of both tenants on the management
    # network), so this test admits it without the isolation proof
    service = Service.open(f"sqlite:///{tmp_path / 't.db'}", hooks=[hook], checks=STRUCTURAL_CHECKS)
    actor = Actor.local_operator()
    estate = example_estate()
    service.apply(actor, estate)
    assert hook.report is not None
    assert not hook.report.incremental
    probe = build_probe(backend.programs, source="bravo/b1/eth0", to="bravo/b2/eth0", dport=8443)
    assert backend.classify(probe.frame, probe.ingress).action is Disposition.FORWARD

    deny = Policy(
        name="no-8443",
        tier=Tier.TENANT,
        rules=(Rule(action="deny", direction="egress", protocol="tcp", ports=("8443",)),),
    )
    service.apply(actor, with_policies(estate, ("bravo", deny)))

    assert hook.report.incremental
    assert backend.classify(probe.frame, probe.ingress).action is Disposition.DROP
    service.close()


def test_policy_change_reuses_the_lookup_tables_and_takes_effect() -> None:
    """A policy-only delta keeps the port tables but the new rules apply at once."""
    from tenantry.compiler import compile_estate, recompile
    from tenantry.model import Change, ChangeSet, Kind, Op, Ref

    before = example_estate()
    programs = compile_estate(before)
    backend = ReferenceBackend(programs)
    tables = backend._current().tables
    probe = build_probe(programs, source="bravo/b1/eth0", to="bravo/b2/eth0", dport=8443)
    assert backend.classify(probe.frame, probe.ingress).action is Disposition.FORWARD
    deny = Policy(
        name="no-8443",
        tier=Tier.TENANT,
        rules=(Rule(action="deny", direction="egress", protocol="tcp", ports=("8443",)),),
    )
    change = ChangeSet((Change(Op.CREATE, Kind.POLICY, Ref("bravo", "no-8443"), None, deny),))

    programs, delta = recompile(programs, before, change)
    backend.apply(programs, delta)

    assert backend._current().tables.mac_to_row is tables.mac_to_row
    assert backend.classify(probe.frame, probe.ingress).action is Disposition.DROP


def test_hook_can_freeze_what_it_enforced(tmp_path: Path) -> None:
    """With freeze_after_apply the enforced programs leave the collector's generations."""
    import gc

    hook = EnforcementHook(ReferenceBackend(), freeze_after_apply=True)
    service = Service.open(f"sqlite:///{tmp_path / 't.db'}", hooks=[hook], checks=STRUCTURAL_CHECKS)
    try:
        service.apply(Actor.local_operator(), example_estate())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        service.close()
