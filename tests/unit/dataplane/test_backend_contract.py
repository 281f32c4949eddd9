"""The Backend contract, for every backend: apply, read back, classify the same way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane import Backend, Disposition, Reason
from tenantry.dataplane.reference import ReferenceBackend
from tests.helpers.dataplane import Ports
from tests.helpers.estates import example_estate


def _ovn() -> Backend:
    pytest.skip("[ovn] the OVN backend fills this parameter in (tenantry.dataplane.ovn)")


@pytest.fixture(
    params=["reference", pytest.param("ovn", marks=[pytest.mark.ovn, pytest.mark.root])]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend, enforcing nothing yet."""
    made: Backend = ReferenceBackend() if request.param == "reference" else _ovn()
    yield made
    made.close()


@pytest.fixture(scope="module")
def demo_programs() -> Programs:
    return compile_estate(example_estate())


def test_backend_reads_back_what_it_enforces(backend: Backend, demo_programs: Programs) -> None:
    """read_back returns programs equal (by name) to those applied."""
    backend.apply(demo_programs)
    assert backend.read_back().canonical() == demo_programs.canonical()


def test_backend_is_a_backend(backend: Backend) -> None:
    """Every backend satisfies the Protocol and has a name."""
    assert isinstance(backend, Backend)
    assert backend.name


# Verdict agreement: the same frames, the same outcome on every backend.
CASES = [
    ("acme/a1/eth0", "acme/a2/eth0", 443, Disposition.FORWARD, None),
    ("acme/a1/eth0", "acme/a2/eth0", 8080, Disposition.DROP, Reason.DEFAULT_DENY),
    ("bravo/b1/eth0", "bravo/b2/eth0", 445, Disposition.DROP, Reason.POLICY_DENY),
    ("bravo/b1/eth0", "bravo/b2/eth0", 80, Disposition.FORWARD, None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}->{c[1]}:{c[2]}")
def test_backend_classifies_like_the_semantics(
    backend: Backend,
    demo_programs: Programs,
    case: tuple[str, str, int, Disposition, Reason | None],
) -> None:
    """Allowed flows are delivered and denied flows dropped, for the same reason."""
    src, dst, dport, action, reason = case
    backend.apply(demo_programs)
    classify = getattr(backend, "classify")  # noqa: B009 - part of the backends' test surface
    verdict = classify(Ports(demo_programs).tcp(src, dst, dport), src)
    assert verdict.action is action
    if reason is not None:
        assert verdict.reason is reason
