"""Bad input never crashes: any bytes, any JSON, any mangled bundle gives a verdict or an
InputError naming the place, never another exception."""

from __future__ import annotations

import json

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from tenantry.audit import Bundle, SignedTreeHead, verify_bundle
from tenantry.errors import InputError
from tests.unit.audit.test_bundle import SIGNER, _bundle

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
VALID = json.loads(_bundle("acme").dumps())


def _replace_somewhere(data: object, draw: st.DrawFn, value: object) -> object:
    """``data`` with one value, somewhere inside, replaced by ``value``."""
    if isinstance(data, dict) and data:
        key = draw(st.sampled_from(sorted(data)))
        inner = draw(st.booleans())
        return {**data, key: _replace_somewhere(data[key], draw, value) if inner else value}
    if isinstance(data, list) and data:
        at = draw(st.integers(0, len(data) - 1))
        copy = list(data)
        copy[at] = _replace_somewhere(data[at], draw, value) if draw(st.booleans()) else value
        return copy
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_input_is_refused_cleanly(raw: bytes) -> None:
    """Random bytes or JSON are not a bundle: InputError."""
    try:
        Bundle.loads(raw)
    except InputError:
        return
    raise AssertionError("random input parsed as a bundle")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=JSON)
def test_a_mangled_bundle_gives_an_error_or_a_verdict(data: st.DataObject, value: object) -> None:
    """Any one field of a real bundle replaced by any JSON value: InputError, or a verdict that
    fails unless nothing actually changed."""
    mangled = _replace_somewhere(VALID, data.draw, value)
    try:
        bundle = Bundle.from_json(mangled)
    except InputError:
        return
    verdict = verify_bundle(bundle, public_key=SIGNER.public_key())
    assert not verdict.ok or mangled == VALID


def test_deeply_nested_json_is_an_input_error() -> None:
    """A file nested past the parser's limits is refused, not a crash."""
    deep = b"[" * 100_000 + b"]" * 100_000
    try:
        Bundle.loads(deep)
    except InputError:
        return
    raise AssertionError("deeply nested input was accepted")


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_a_bad_checkpoint_is_an_input_error(value: object) -> None:
    """Checkpoint files from a witness are checked field by field."""
    try:
        SignedTreeHead.from_json(value)
    except InputError:
        return
    raise AssertionError("random JSON parsed as a signed tree head")
