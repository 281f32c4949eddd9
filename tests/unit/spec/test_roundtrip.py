"""Export round-trips: a dumped estate loads back equal, and the schema describes the files."""

from __future__ import annotations

import json
from pathlib import Path

from tenantry.spec import dump_spec, load_spec_text, load_specs, spec_json_schema


def test_demo_estate_round_trips(examples: Path) -> None:
    """dump(load(demo)) loads back to the same estate."""
    estate = load_specs([examples / "demo.yaml"]).estate
    again = load_spec_text(dump_spec(estate)).estate
    assert again == estate
    assert again.count() == estate.count() > 60


def test_dump_is_stable(examples: Path) -> None:
    """Dumping twice gives byte-identical text (diffable exports)."""
    estate = load_specs([examples / "demo.yaml"]).estate
    text = dump_spec(estate)
    assert dump_spec(load_spec_text(text).estate) == text


def test_sizes_and_rates_keep_human_units(examples: Path) -> None:
    """Quantities are written back the way people write them."""
    text = dump_spec(load_specs([examples / "demo.yaml"]).estate)
    assert "memory: 512GiB" in text
    assert "average: 1Gbit" in text


def test_schema_is_json_schema_for_the_whole_file() -> None:
    """`tenantry schema` output names every top-level section and forbids unknown fields."""
    schema = spec_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"tenants", "hosts", "port_groups", "policies"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # serialisable
