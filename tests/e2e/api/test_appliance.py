"""Appliance mode: every route needs authentication (but /healthz and login), and nothing in
the API runs a shell command or arbitrary code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.openapi_doc import openapi_json
from tests.helpers.server import RunningServer

API = Path(__file__).resolve().parents[3] / "src" / "tenantry" / "api"
PUBLIC = {("get", "/healthz"), ("post", "/v1/auth/login")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_operation_but_health_and_login_needs_a_bearer(server: RunningServer) -> None:
    """The document marks them, and an anonymous call to each really gets 401."""
    with server.client() as anonymous:
        document = anonymous.get("/openapi.json").json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if (method, path) in PUBLIC:
                    assert "security" not in operation
                    continue
                assert operation["security"] == [{"bearer": []}], (method, path)
                response = anonymous.request(method.upper(), _concrete(path), json={})
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.headers["www-authenticate"].startswith("Bearer")


def test_api_code_never_runs_a_shell_or_arbitrary_code() -> None:
    """No subprocess, os.system/exec*/spawn*, eval, exec, pickle or shell=True in tenantry.api."""
    forbidden = re.compile(
        r"\bsubprocess\b|\bos\.(system|popen|exec\w*|spawn\w*)\b|\beval\(|\bexec\(|\bpickle\b"
        r"|shell\s*=\s*True|__import__\("
    )
    offenders = [
        f"{path.relative_to(API)}:{number}: {line.strip()}"
        for path in sorted(API.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert not offenders, offenders


def test_openapi_document_is_published_without_a_token(server: RunningServer) -> None:
    """The positive control: the OpenAPI document and /healthz answer anonymously."""
    with server.client() as anonymous:
        assert anonymous.get("/openapi.json").status_code == 200
        assert anonymous.get("/healthz").json() == {"status": "ok"}


def test_public_openapi_document_reveals_nothing_of_the_deployment(server: RunningServer) -> None:
    """Anonymous readers get the published document, naming no seeded tenant, user or object."""
    with server.client() as anonymous:
        served = anonymous.get("/openapi.json")
    assert served.json() == json.loads(openapi_json())
    text = served.text.lower()
    seeded = {"acme", "globex", "padmin", "tadmin", "gadmin", "tmember", "web-in"}
    assert not {word for word in seeded if word in text}
    with server.client(server.token("padmin")) as admin:
        assert "globex" in admin.get("/v1/tenant").text  # the words are there to be found
