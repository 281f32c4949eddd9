"""docs/openapi.json: the API's OpenAPI document as published (`scripts/gen-docs` rewrites it)."""

from __future__ import annotations

import json
from typing import cast

from tenantry.api import create_app
from tenantry.service import Service

__all__ = ["openapi_json"]


def openapi_json() -> str:
    """The document, as stable JSON text (the document does not depend on any data)."""
    document = create_app(cast(Service, None)).openapi()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
