"""A full compile keeps rules as columns: the rules it gives back equal rule objects built
one by one, and the columnar CompiledPolicy behaves like the tuple one."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import CompiledPolicy, compile_estate
from tenantry.compiler._ports import _mac_column
from tenantry.compiler._rule_columns import RuleColumns
from tenantry.compiler.addresses import mac_int
from tenantry.compiler.rules import compile_policy
from tenantry.model import Estate
from tests.helpers.estates import example_estate
from tests.strategies import estates


def _object_policies(estate: Estate, programs: object) -> dict[str, CompiledPolicy]:
    """Each policy compiled again the plain way (rule objects), with the same set ids."""
    index = programs.index  # type: ignore[attr-defined]
    out = {}
    for ref, policy in estate.policies.items():
        pid = index.policy_ids[ref]
        out[str(ref)] = compile_policy(
            pid, ref, policy, index.address_set_ids.__getitem__, index.intern
        )
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates(max_tenants=3))
def test_columnar_rules_equal_rules_built_one_by_one(estate: Estate) -> None:
    """For generated estates, every policy's rules read from the columns equal, field for
    field, the rule objects the plain path builds, and so do the policies."""
    programs = compile_estate(estate)
    plain = _object_policies(estate, programs)
    for policy in programs.policies:
        assert policy is not None
        assert isinstance(policy._rules, RuleColumns)
        other = plain[str(policy.ref)]
        assert isinstance(other._rules, tuple)
        assert policy.rules == other.rules
        assert policy == other
        assert hash(policy) == hash(other)
        assert policy.rule_count == len(other.rules)


def test_columnar_policy_is_immutable_and_copies_by_value() -> None:
    """A columnar policy refuses assignment, and copies and pickles to an equal policy."""
    policy = next(p for p in compile_estate(example_estate()).policies if p is not None)
    with pytest.raises(AttributeError):
        policy.order = 5  # type: ignore[misc]
    assert copy.deepcopy(policy) == policy
    assert pickle.loads(pickle.dumps(policy)) == policy  # noqa: S301 - our own bytes
    assert policy != "not a policy"


@given(st.lists(st.integers(0, (1 << 48) - 1), max_size=20), st.booleans())
def test_mac_column_parses_like_mac_int(values: list[int], hyphens: bool) -> None:
    """The bulk MAC parse gives what parsing each MAC gives, colons or hyphens."""
    sep = "-" if hyphens else ":"
    macs = [sep.join(f"{v:012x}"[i : i + 2] for i in range(0, 12, 2)) for v in values]
    assert _mac_column(macs).tolist() == [mac_int(m) for m in macs]
