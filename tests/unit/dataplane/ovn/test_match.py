"""ACL match rendering and parsing: what render writes, parse reads back exactly."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantry.dataplane.ovn.match import (
    MatchSpec,
    PeerSpec,
    Unless,
    matches_everything,
    parse,
    render,
)

_protocols = st.sampled_from([-1, 6, 17, 1, 58, 47])
_ports = st.lists(
    st.tuples(st.integers(1, 65535), st.integers(0, 200)).map(
        lambda p: (p[0], min(65535, p[0] + p[1]))
    ),
    max_size=3,
    unique=True,
).map(lambda ports: tuple(sorted(set(ports))))
_v4 = st.builds(
    lambda a, n: IPv4Network((a, n), strict=False), st.integers(0, 2**32 - 1), st.integers(8, 32)
)
_v6 = st.builds(
    lambda a, n: IPv6Network((a, n), strict=False), st.integers(0, 2**128 - 1), st.integers(8, 128)
)
_peers = st.one_of(
    st.just(PeerSpec()),
    st.lists(st.one_of(_v4, _v6), min_size=1, max_size=3, unique=True).map(
        lambda cidrs: PeerSpec(
            cidrs=tuple([c for c in cidrs if c.version == 4] + [c for c in cidrs if c.version == 6])
        )
    ),
    st.from_regex(r"tnt_[a-z0-9_]{1,20}", fullmatch=True).map(lambda n: PeerSpec(address_set=n)),
)


@st.composite
def specs(draw: st.DrawFn) -> MatchSpec:
    protocol = draw(_protocols)
    ports = draw(_ports) if protocol in (6, 17) else ()
    exclusions = []
    for _ in range(draw(st.integers(0, 2))):
        # canonical: a rule naming a protocol excludes only within it
        other = protocol if protocol != -1 else draw(st.sampled_from([6, 17, 1, -1]))
        unless = Unless(other, draw(_ports) if other in (6, 17) else (), draw(_peers))
        if matches_everything(unless, protocol):
            continue
        exclusions.append(unless)
    return MatchSpec(
        egress=draw(st.booleans()),
        group=draw(st.from_regex(r"tnt_[a-z0-9_]{1,20}", fullmatch=True)),
        protocol=protocol,
        ports=ports,
        peer=draw(_peers),
        exclusions=tuple(exclusions),
    )


@given(specs())
def test_parse_reads_back_every_rendered_match(spec: MatchSpec) -> None:
    """render then parse is the identity on match specs."""
    assert parse(render(spec)) == spec


def test_render_never_negates_what_ovn_refuses_to_negate() -> None:
    """No ``!``, no ``!=`` on inport, ip.proto or eth.type (OVN ignores such flows)."""
    spec = MatchSpec(
        True, "tnt_g", -1, (), PeerSpec(), (Unless(6, ((80, 80), (1000, 2000))), Unless(1))
    )
    text = render(spec)
    assert "!(" not in text
    for nominal in ("inport !=", "ip.proto !=", "eth.type !=", "outport !="):
        assert nominal not in text


@pytest.mark.parametrize(
    "text",
    [
        "1",
        'inport == "x" && tcp',
        "inport == @g && tcp && tcp.dst == 80 || 1",
        "outport == @g && ip && ip4.src == {10.0.0.0/8} && 1 == 1",
    ],
)
def test_parse_refuses_matches_tenantry_never_writes(text: str) -> None:
    """A hand-written match is not read as a rule."""
    with pytest.raises(ValueError, match="not"):
        parse(text)
