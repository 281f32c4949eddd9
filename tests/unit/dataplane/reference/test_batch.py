"""The batch API gives the scalar verdicts, frame for frame, with or without cache hits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import compile_estate
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.errors import InputError
from tests.helpers.dataplane import Ports
from tests.helpers.estates import example_estate
from tests.strategies import estates, frames_between

WIDTH = 128


def _pack(frames: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    buffer = np.zeros((len(frames), WIDTH), np.uint8)
    lengths = np.zeros(len(frames), np.int32)
    rows = np.zeros(len(frames), np.int32)
    for i, (row, frame) in enumerate(frames):
        cut = frame[:WIDTH]
        buffer[i, : len(cut)] = np.frombuffer(cut, np.uint8)
        lengths[i] = len(cut)
        rows[i] = row
    return buffer, lengths, rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_batch_verdicts_equal_scalar_verdicts(data: st.DataObject, compiled: bool) -> None:
    """Random frames, repeated so the table fills: each batch verdict is the scalar one, with
    the compiled kernel (when numba is installed) and with the numpy path."""
    programs = compile_estate(data.draw(estates(max_tenants=2)))
    batched, scalar = ReferenceBackend(programs), ReferenceBackend(programs)
    batched.batch.compiled = compiled
    frames = [data.draw(frames_between(programs)) for _ in range(12)]
    frames = [(row, frame[:WIDTH]) for row, frame in frames]
    for _ in range(3):
        result = batched.classify_batch(*_pack(frames))
        for i, (row, frame) in enumerate(frames):
            got = result.verdicts[result.verdict_ids[i]]
            want = scalar.classify(frame, row, trace=True)
            assert (got.action, got.reason, got.egress) == (want.action, want.reason, want.egress)


def test_repeated_flows_are_answered_from_the_table(ports: Ports) -> None:
    """The second batch of the same established flows is all hits."""
    backend = ReferenceBackend(compile_estate(example_estate()))
    frame = ports.tcp("acme/a1/eth0", "acme/a2/eth0", 443)
    row = backend.port("acme/a1/eth0")
    packed = _pack([(row, frame)] * 64)
    for _ in range(3):
        result = backend.classify_batch(*packed)
    assert result.hits == 64
    assert result.forwarded.all()


def test_batch_refuses_a_badly_shaped_buffer() -> None:
    """The frame buffer must be (n, width) with width >= 64 and a multiple of 8."""
    backend = ReferenceBackend(compile_estate(example_estate()))
    with pytest.raises(InputError, match="width >= 64"):
        backend.classify_batch(np.zeros((4, 60), np.uint8), np.zeros(4), np.zeros(4))
