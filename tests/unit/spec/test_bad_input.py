"""Bad spec files get an error naming the file, line and field path, and change nothing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.errors import SpecError
from tenantry.spec import load_spec_text, load_specs
from tests.helpers.specs import ASSETS, base_data, tenant_section, text_from

BASE = (ASSETS / "specs" / "two-tenants.yaml").read_text()


def issue_of(text: str, name: str = "bad.yaml") -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, name)
    return caught.value


def test_yaml_syntax_error_names_file_line_and_column() -> None:
    """An unclosed bracket is reported where the parser stopped."""
    error = issue_of("version: 1\ntenants: [\n  {name: a\n")
    issue = error.issues[0]
    assert issue.file == "bad.yaml"
    assert issue.line is not None and issue.line >= 3
    assert "YAML syntax" in issue.message


def test_duplicate_yaml_key_is_refused_with_its_line() -> None:
    """A key given twice in one mapping is an error, not a silent overwrite."""
    error = issue_of("version: 1\nprovider: {name: a}\nprovider: {name: b}\n")
    assert error.issues[0].line == 3
    assert "twice" in error.issues[0].message


def test_unknown_field_names_its_path_and_line() -> None:
    """A misspelt field points at the key that is wrong."""
    text = BASE.replace("    resources: {vcpu:", "    resorces: {vcpu:")
    error = issue_of(text)
    (issue,) = error.issues
    assert issue.path == "tenants[0].resorces"
    assert (
        issue.line
        == text.splitlines().index(
            "    resorces: {vcpu: {max: 8}, memory: {max: 32GiB}, storage: {max: 500GiB}}"
        )
        + 1
    )
    assert "unknown field" in issue.message


def test_wrong_type_names_the_nested_field_path() -> None:
    """A MAC that is not a MAC is reported at tenants[i].guests[j].vnics[k].mac."""
    data = base_data()
    tenant_section(data, "globex")["guests"][0]["vnics"][0]["mac"] = "not-a-mac"
    error = issue_of(text_from(data))
    (issue,) = error.issues
    assert issue.path == "tenants[1].guests[0].vnics[0].mac"
    assert issue.line is not None
    assert "not a MAC address" in issue.message


def test_missing_required_field_is_named() -> None:
    """A host without cpus says which field is missing."""
    data = base_data()
    del data["hosts"][0]["cpus"]
    (issue,) = issue_of(text_from(data)).issues
    assert issue.path == "hosts[0].cpus"
    assert issue.message == "required field is missing"


def test_dangling_reference_is_located_at_the_referring_field() -> None:
    """A vNIC naming a port group that does not exist points at its port_group field."""
    data = base_data()
    tenant_section(data, "acme")["guests"][0]["vnics"][0]["port_group"] = "pg-nowhere"
    text = text_from(data)
    (issue,) = issue_of(text).issues
    assert issue.path == "tenants[0].guests[0].vnics[0].port_group"
    assert issue.line is not None
    assert "pg-nowhere" in text.splitlines()[issue.line - 1]
    assert "does not exist" in issue.message


def test_duplicate_object_in_one_file_is_refused_at_both_places() -> None:
    """Two hosts named h1 in one file: the second is reported, naming the first's line."""
    data = base_data()
    data["hosts"].append(dict(data["hosts"][0]))
    (issue,) = issue_of(text_from(data)).issues
    assert issue.path == "hosts[2].name"
    assert "declared twice" in issue.message


def test_duplicate_object_across_files_names_both_files(tmp_path: Path) -> None:
    """An object declared in two files is an error that names the first file."""
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(BASE)
    second.write_text("version: 1\ndatacenters: [{name: dc1}]\n")
    with pytest.raises(SpecError) as caught:
        load_specs([first, second])
    (issue,) = caught.value.issues
    assert issue.file == str(second)
    assert str(first) in issue.message


def test_files_may_split_an_estate(tmp_path: Path) -> None:
    """Provider infrastructure in one file, a tenant in another: together they validate."""
    data = base_data()
    tenants = data.pop("tenants")
    data["shared_services"][0]["granted_to"] = []
    (tmp_path / "provider.yaml").write_text(text_from(data))
    (tmp_path / "tenants.yaml").write_text(text_from({"version": 1, "tenants": tenants}))
    data["shared_services"][0]["granted_to"] = ["acme"]
    loaded = load_specs([tmp_path / "provider.yaml", tmp_path / "tenants.yaml"])
    assert {str(r) for r in loaded.estate.tenants} == {"acme", "globex"}


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    """A file that does not exist is named."""
    with pytest.raises(SpecError, match="no such file"):
        load_specs([tmp_path / "nope.yaml"])


def test_non_mapping_top_level_is_refused() -> None:
    """A list at the top level is not a spec."""
    assert "mapping" in str(issue_of("- a\n- b\n"))


def test_every_issue_is_reported_at_once() -> None:
    """Two independent mistakes give two issues, so one run shows all of them."""
    data = base_data()
    data["hosts"][0]["cpus"] = "many"
    data["hosts"][1]["memory"] = "lots"
    assert len(issue_of(text_from(data)).issues) == 2


def test_name_with_match_injection_characters_is_refused() -> None:
    """Names become OVN match tokens and interface names: only [a-z0-9-] gets through."""
    data = base_data()
    tenant_section(data, "acme")["guests"][0]["name"] = 'web" || 1 == 1'
    (issue,) = issue_of(text_from(data)).issues
    assert issue.path == "tenants[0].guests[0].name"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_spec_error_or_an_estate(text: str) -> None:
    """No input makes the loader raise anything but SpecError."""
    with contextlib.suppress(SpecError):
        load_spec_text(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(BASE) - 1), st.characters())
def test_mutated_spec_gives_a_spec_error_or_an_estate(position: int, char: str) -> None:
    """A one-character corruption of a valid spec never crashes the loader."""
    with contextlib.suppress(SpecError):
        load_spec_text(BASE[:position] + char + BASE[position + 1 :])
