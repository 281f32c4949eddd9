"""Policy: tiers in order, first match, pass, default action, selectors and services as peers,
stateful allow with timeouts, fragments, and connections cut when a change denies them."""

from __future__ import annotations

import pytest

from tenantry.compiler import compile_estate
from tenantry.dataplane import Disposition, Reason
from tenantry.dataplane import packets as pkt
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.model import PROVIDER, Policy, Ref, Rule, Selector, Tier, router_mac
from tests.helpers.dataplane import Ports, assert_denies, assert_permits
from tests.helpers.estates import example_estate, with_policies
from tests.unit.dataplane.conftest import Clock

A1, A2, A3, INFRA = "acme/a1/eth0", "acme/a2/eth0", "acme/a3/eth0", "acme/infra/eth0"
B1, B2 = "bravo/b1/eth0", "bravo/b2/eth0"


def _rule(action: str, **kw: object) -> Rule:
    return Rule(action=action, direction=kw.pop("direction", "ingress"), **kw)  # type: ignore[arg-type]


TCP_8080 = {"protocol": "tcp", "ports": ("8080",)}


def _truth_table_estate(provider: str, tenant: str, baseline: str) -> ReferenceBackend:
    extra: list[tuple[str, Policy]] = [
        (
            "acme",
            Policy(
                name="out", tier=Tier.TENANT, order=1, rules=(_rule("allow", direction="egress"),)
            ),
        ),
        (
            "acme",
            Policy(name="web", tier=Tier.TENANT, applies_to=Selector(tags=("web",)), rules=()),
        ),
        (
            PROVIDER,
            Policy(name="baseline-icmp", tier=Tier.BASELINE, rules=(_rule(baseline, **TCP_8080),)),
        ),
    ]
    if provider == "pass":
        rules = (_rule("pass", **TCP_8080),)
        extra.append((PROVIDER, Policy(name="mand", tier=Tier.PROVIDER, order=1, rules=rules)))
        deny_rest = (_rule("deny", **TCP_8080),)
        extra.append(
            (PROVIDER, Policy(name="mand-2", tier=Tier.PROVIDER, order=2, rules=deny_rest))
        )
    elif provider != "none":
        extra.append(
            (
                PROVIDER,
                Policy(name="mand", tier=Tier.PROVIDER, rules=(_rule(provider, **TCP_8080),)),
            )
        )
    if tenant != "none":
        extra.append(
            (
                "acme",
                Policy(name="t", tier=Tier.TENANT, order=50, rules=(_rule(tenant, **TCP_8080),)),
            )
        )
    return ReferenceBackend(compile_estate(with_policies(example_estate(), *extra)))


def _expected(provider: str, tenant: str, baseline: str) -> str:
    for decision in (provider, tenant, baseline):
        if decision in ("allow", "deny"):
            return decision
    return "deny"  # acme's app network: default deny


@pytest.mark.parametrize("baseline", ["allow", "deny"])
@pytest.mark.parametrize("tenant", ["none", "allow", "deny"])
@pytest.mark.parametrize("provider", ["none", "allow", "deny", "pass"])
def test_tier_precedence_truth_table(
    provider: str, tenant: str, baseline: str, ports: Ports
) -> None:
    """provider > tenant > baseline > default; `pass` skips the rest of the provider tier."""
    backend = _truth_table_estate(provider, tenant, baseline)

    verdict = backend.classify(ports.tcp(A1, A2, 8080), A1)

    expected = _expected(provider, tenant, baseline)
    assert (verdict.action is Disposition.FORWARD) == (expected == "allow"), verdict.steps


def test_provider_mandatory_deny_beats_a_tenants_default_allow(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """SMB is denied on bravo's default-allow network by the provider tier."""
    verdict = assert_denies(
        reference, ports.tcp(B1, B2, 445), ingress=B1, reason=Reason.POLICY_DENY
    )
    assert verdict.rule is not None
    assert verdict.rule.policy == Ref(PROVIDER, "mandatory-no-smb")
    assert verdict.log


def test_default_allow_network_passes_what_no_rule_decided(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """bravo's network says allow: port 80 passes without any rule."""
    assert_permits(reference, ports.tcp(B1, B2, 80), ingress=B1, to=B2)


def test_default_deny_network_drops_what_no_rule_decided(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """acme's network keeps the default deny: a1 may not send to port 8080."""
    assert_denies(reference, ports.tcp(A1, A2, 8080), ingress=A1, reason=Reason.DEFAULT_DENY)


def _to_db(ports: Ports, src: str, dport: int) -> bytes:
    a = ports[src]
    l4 = pkt.tcp(a.ip, "10.1.1.13", 40000, dport)
    return pkt.ethernet(
        router_mac("acme", "core", "app"), a.mac, 0x0800, pkt.ipv4(a.ip, "10.1.1.13", 6, l4)
    )


def test_selector_peer_admits_the_selected_vnics(reference: ReferenceBackend, ports: Ports) -> None:
    """db accepts 5432 from vNICs tagged web, and logs it."""
    verdict = assert_permits(reference, _to_db(ports, A1, 5432), ingress=A1, to=A3)
    assert verdict.log


def test_selector_peer_refuses_other_vnics(reference: ReferenceBackend, ports: Ports) -> None:
    """infra is not tagged web: its 5432 to db is refused (egress default deny)."""
    assert_denies(reference, _to_db(ports, INFRA, 5432), ingress=INFRA)


def test_service_peer_allows_the_service_subnets(reference: ReferenceBackend, ports: Ports) -> None:
    """web's `peer: {service: dns}` allows DNS to the provider's server."""
    assert_permits(reference, ports.udp("acme/a1/eth1", "dns-1/eth0", 53), ingress="acme/a1/eth1")


def _reply_from_db(ports: Ports, sport: int = 5432, dport: int = 40000) -> bytes:
    a3 = ports[A3]
    l4 = pkt.tcp("10.1.1.13", "10.1.0.11", sport, dport, flags=0x12)
    frame = pkt.ipv4("10.1.1.13", "10.1.0.11", 6, l4)
    return pkt.ethernet(router_mac("acme", "core", "db"), a3.mac, 0x0800, frame)


def test_reply_of_an_allowed_connection_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """Allow is stateful: db's SYN-ACK passes though db's egress has no allow rule."""
    assert_permits(reference, _to_db(ports, A1, 5432), ingress=A1)
    verdict = assert_permits(reference, _reply_from_db(ports), ingress=A3, to=A1)
    assert verdict.reason is Reason.ESTABLISHED


def test_unsolicited_reply_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """Without the request, the same segment from db is denied by db's egress policy."""
    assert_denies(reference, _reply_from_db(ports), ingress=A3, reason=Reason.DEFAULT_DENY)


def test_connection_times_out_when_idle(
    reference: ReferenceBackend, ports: Ports, clock: Clock
) -> None:
    """After the TCP idle timeout the reply is judged afresh (and denied)."""
    assert_permits(reference, _to_db(ports, A1, 5432), ingress=A1)
    clock.now += 3601
    assert_denies(reference, _reply_from_db(ports), ingress=A3, reason=Reason.DEFAULT_DENY)


def test_active_connection_stays_open(
    reference: ReferenceBackend, ports: Ports, clock: Clock
) -> None:
    """Traffic refreshes the timeout."""
    assert_permits(reference, _to_db(ports, A1, 5432), ingress=A1)
    for _ in range(3):
        clock.now += 3000
        assert_permits(reference, _reply_from_db(ports), ingress=A3, to=A1)


def test_connection_is_cut_when_a_change_denies_it(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """After a change that denies the original packet, the reply no longer passes."""
    assert_permits(reference, _to_db(ports, A1, 5432), ingress=A1)
    deny = Policy(name="db", tier=Tier.TENANT, applies_to=Selector(tags=("db",)), rules=())
    reference.apply(compile_estate(with_policies(example_estate(), ("acme", deny))))
    assert reference.flushed == 1
    assert_denies(reference, _reply_from_db(ports), ingress=A3)


def test_connection_survives_a_change_that_still_allows_it(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """An unrelated change keeps established connections."""
    assert_permits(reference, _to_db(ports, A1, 5432), ingress=A1)
    other = Policy(
        name="noise", tier=Tier.TENANT, rules=(_rule("deny", protocol="udp", ports=("9",)),)
    )
    reference.apply(compile_estate(with_policies(example_estate(), ("acme", other))))
    assert reference.flushed == 0
    assert_permits(reference, _reply_from_db(ports), ingress=A3, to=A1)


def _fragment(ports: Ports, dport: int, *, offset: int, more: bool) -> bytes:
    a1 = ports[A1]
    l4 = pkt.udp("10.1.0.11", "10.1.0.12", 40000, dport, b"x" * 32) if offset == 0 else b"y" * 32
    packet = pkt.ipv4(
        "10.1.0.11", "10.1.0.12", 17, l4, ident=77, fragment_offset=offset, more_fragments=more
    )
    return pkt.ethernet(ports[A2].mac, a1.mac, 0x0800, packet)


def test_fragments_of_an_allowed_flow_pass(ports: Ports) -> None:
    """The first fragment is judged; later fragments of it follow its verdict."""
    allow = Policy(
        name="udp",
        tier=Tier.TENANT,
        rules=(_rule("allow", protocol="udp"), _rule("allow", direction="egress", protocol="udp")),
    )
    backend = ReferenceBackend(compile_estate(with_policies(example_estate(), ("acme", allow))))
    assert_permits(backend, _fragment(ports, 5000, offset=0, more=True), ingress=A1, to=A2)
    assert_permits(backend, _fragment(ports, 5000, offset=40, more=False), ingress=A1, to=A2)


def test_fragments_of_a_denied_flow_never_pass(reference: ReferenceBackend, ports: Ports) -> None:
    """A denied first fragment leaves nothing for its followers."""
    assert_denies(reference, _fragment(ports, 5000, offset=0, more=True), ingress=A1)
    assert_denies(
        reference,
        _fragment(ports, 5000, offset=40, more=False),
        ingress=A1,
        reason=Reason.FRAGMENT_WITHOUT_FIRST,
    )


def test_ping_is_allowed_by_the_baseline_where_nothing_decided(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """Baseline allows ICMP ingress on bravo; the echo reply passes as established."""
    assert_permits(reference, ports.ping(B1, B2), ingress=B1, to=B2)
    verdict = assert_permits(reference, ports.ping(B2, B1, reply=True), ingress=B2, to=B1)
    assert verdict.reason is Reason.ESTABLISHED
