"""The YAML desired state: files to a validated estate (errors name file, line and field), and back.

``load_specs`` checks syntax, the schema, duplicates and every structural rule of the model;
``dump_spec`` writes an estate as a spec that loads back to an equal estate.
"""

from tenantry.spec.convert import (
    Origin,
    Origins,
    dump_spec,
    dump_yaml,
    estate_to_spec,
    issues_for,
)
from tenantry.spec.files import LoadedSpec, load_spec_text, load_specs
from tenantry.spec.loader import ParsedFile
from tenantry.spec.schema import EstateSpec, TenantSection, spec_json_schema

__all__ = [
    "EstateSpec",
    "LoadedSpec",
    "Origin",
    "Origins",
    "ParsedFile",
    "TenantSection",
    "dump_spec",
    "dump_yaml",
    "estate_to_spec",
    "issues_for",
    "load_spec_text",
    "load_specs",
    "spec_json_schema",
]
