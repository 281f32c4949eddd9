"""Properties of the reference data plane over generated estates and frames."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import PortFlag, compile_estate
from tenantry.dataplane import Disposition, decode
from tenantry.dataplane.probe import build_probe
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.errors import FrameError, TenantryError
from tenantry.model import PROVIDER
from tests.helpers.estates import example_estate
from tests.strategies import estates, frames_between


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_frame_error(data: bytes) -> None:
    """Fuzzing the decoder: a frame decodes or raises FrameError with an offset in range."""
    offset = -1
    try:
        decode(data)
    except FrameError as exc:
        offset = exc.offset
    assert -1 <= offset <= max(len(data), 14)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=14, max_size=120), st.integers(0, 11))
def test_arbitrary_bytes_get_a_verdict(data: bytes, row: int) -> None:
    """Classifying arbitrary bytes gives a verdict (usually a drop), never an exception."""
    backend = ReferenceBackend(compile_estate(example_estate()))
    verdict = backend.classify(data, row)
    assert verdict.action in Disposition


def _crosses_legitimately(
    backend: ReferenceBackend, sender: int, receiver: int, segment: int
) -> bool:
    programs = backend.programs
    seg = programs.segments[segment]
    assert seg is not None
    if seg.management:
        return True  # bridged guests share the management network by design (verify flags it)
    owners = {programs.owner_of(sender), programs.owner_of(receiver)}
    flags = int(programs.ports.flags[sender]) | int(programs.ports.flags[receiver])
    return (
        seg.service is not None
        and PROVIDER in owners
        and bool(flags & (PortFlag.SERVICE_CONSUMER | PortFlag.SERVICE_PROVIDER))
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_random_frames_never_cross_tenants_except_through_shared_services(
    data: st.DataObject,
) -> None:
    """Whatever a guest sends, it reaches another owner's port only on a shared service (with
    the provider at one end) or on the management network."""
    estate = data.draw(estates(max_tenants=3))
    backend = ReferenceBackend(compile_estate(estate))
    for _ in range(20):
        row, frame = data.draw(frames_between(backend.programs))
        verdict = backend.classify(frame, row)
        for receiver in verdict.egress:
            if backend.programs.owner_of(receiver) != backend.programs.owner_of(row):
                assert _crosses_legitimately(backend, row, receiver, verdict.segment), verdict.steps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flow_cache_never_changes_a_verdict(data: st.DataObject) -> None:
    """The same frames give the same verdicts with the flow cache as without it."""
    estate = data.draw(estates(max_tenants=2))
    programs = compile_estate(estate)
    cached, plain = ReferenceBackend(programs), ReferenceBackend(programs)
    frames = [data.draw(frames_between(programs)) for _ in range(10)]
    for row, frame in frames * 3:
        a = cached.classify(frame, row)
        b = plain.classify(frame, row, trace=True)
        assert (a.action, a.stage, a.reason, a.egress) == (b.action, b.stage, b.reason, b.egress)


BYTE = st.integers(0, 255)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.data(),
    st.lists(
        # the bytes a hit re-checks (lengths, fragment bits, TCP data offset) or any other
        st.tuples(st.sampled_from([16, 17, 20, 21, 38, 39, 46]) | st.integers(0, 59), BYTE),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 20),
)
def test_flow_cache_hits_recheck_what_the_key_leaves_out(
    data: st.DataObject, edits: list[tuple[int, int]], cut: int
) -> None:
    """A frame that shares a cached frame's key but differs elsewhere in the header (lengths,
    fragment bits, data offset) or is shorter gets the verdict the plain pipeline gives it."""
    programs = compile_estate(example_estate())
    cached, plain = ReferenceBackend(programs), ReferenceBackend(programs)
    live = programs.live_rows().tolist()
    source, target = data.draw(st.sampled_from(live)), data.draw(st.sampled_from(live))
    try:
        probe = build_probe(
            programs,
            source=programs.port_name(source),
            to=programs.port_name(target),
            proto=data.draw(st.sampled_from(["tcp", "udp"])),
            dport=data.draw(st.sampled_from([53, 80, 443, 5432])),
        )
        # padded to Ethernet's minimum as a NIC sends it (a bare UDP probe is 42 bytes)
        row, frame = probe.ingress, probe.frame.ljust(60, b"\0")
    except TenantryError:  # no IPv4 path between the two: a random frame instead
        row, frame = data.draw(frames_between(programs))
    for _ in range(3):  # fill the cache (and open the connection if allowed)
        cached.classify(frame, row)
        plain.classify(frame, row, trace=True)
    changed = bytearray(frame)
    for offset, value in edits:
        if offset < len(changed):
            changed[offset] = value
    variant = bytes(changed[: max(len(changed) - cut, 0)])
    a = cached.classify(variant, row)
    b = plain.classify(variant, row, trace=True)
    assert (a.action, a.stage, a.reason, a.egress) == (b.action, b.stage, b.reason, b.egress)
