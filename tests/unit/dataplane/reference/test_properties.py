"""Properties of the reference data plane over generated estates and frames."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import PortFlag, compile_estate
from tenantry.dataplane import Disposition, decode
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.errors import FrameError
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
