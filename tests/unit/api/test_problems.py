"""Every error is an RFC 9457 problem document with the class's own code and status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.api import ApiLimits, create_app
from tenantry.governance import Actor, GovernanceRules, UnsafeFastPasswordHashing
from tenantry.service import Service
from tests.helpers.asgi import InProcessClient, in_process_client
from tests.helpers.people import PASSWORD, add_person
from tests.helpers.specs import estate_from

PROBLEM = "application/problem+json"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service.open(
        f"sqlite:///{tmp_path / 't.db'}",
        rules=GovernanceRules(password_hashing=UnsafeFastPasswordHashing()),
    )
    svc.apply(Actor.local_operator(), estate_from())
    add_person(svc, "bob", tenant="acme")
    yield svc
    svc.close()


@pytest.fixture
def client(service: Service) -> Iterator[InProcessClient]:
    app = create_app(service, ApiLimits(max_request_bytes=4096))
    with in_process_client(app) as anonymous:
        token = anonymous.post(
            "/v1/auth/login", json={"username": "bob", "tenant": "acme", "password": PASSWORD}
        ).json()["token"]
        anonymous.headers["Authorization"] = f"Bearer {token}"
        yield anonymous


def test_invalid_body_points_at_the_field(client: InProcessClient) -> None:
    """A body failing the model names the field by JSON pointer."""
    body = client.get("/v1/guest/acme/web").json()["body"]
    body["vnics"][0]["mac"] = "zz"
    response = client.put("/v1/guest/acme/web", json=body, headers={"If-Match": '"1"'})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "input.invalid" and problem["type"] == "input.invalid"
    assert any(e["pointer"] == "/vnics/0/mac" for e in problem["errors"])


def test_invalid_spec_points_at_line_and_field(client: InProcessClient) -> None:
    """A spec error comes back located (pointer, line, column)."""
    response = client.post(
        "/v1/plan",
        content="version: 1\ntenants:\n  - name: acme\n    colour: blue\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["pointer"] == "/tenants/0/colour" and error["line"] == 4


def test_admission_refusal_of_a_partial_spec_is_located_in_it(client: InProcessClient) -> None:
    """A tenant's partial spec naming a missing image is refused, pointing at the field."""
    spec = (
        "version: 1\n"
        "tenants:\n"
        "  - name: acme\n"
        "    resources: {vcpu: {max: 8}, memory: {max: 32GiB}, storage: {max: 500GiB}}\n"
        "    guests:\n"
        "      - name: db\n"
        "        image: nope\n"
        "        memory: {size: 1GiB}\n"
    )
    response = client.post("/v1/plan", content=spec, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"].startswith("admission")
    assert any(e.get("pointer") == "/tenants/0/guests/0/image" for e in problem["errors"])


def test_write_without_precondition_is_428(client: InProcessClient) -> None:
    """A PUT naming no ETag is refused: no blind overwrite."""
    body = client.get("/v1/guest/acme/web").json()["body"]
    response = client.put("/v1/guest/acme/web", json=body)
    assert response.status_code == 428 and response.json()["code"] == "precondition.required"


def test_stale_etag_is_409(client: InProcessClient) -> None:
    """A write based on an old revision is a conflict, never a silent overwrite."""
    current = client.get("/v1/guest/acme/web")
    body = dict(current.json()["body"], description="first")
    assert (
        client.put(
            "/v1/guest/acme/web", json=body, headers={"If-Match": current.headers["etag"]}
        ).status_code
        == 200
    )
    late = client.put(
        "/v1/guest/acme/web",
        json=dict(body, description="second"),
        headers={"If-Match": current.headers["etag"]},
    )
    assert late.status_code == 409 and late.json()["code"] == "conflict.stale"


def test_oversized_body_is_413(client: InProcessClient) -> None:
    """A body over the limit is refused before it is read."""
    response = client.post(
        "/v1/plan", content="x" * 5000, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 413 and response.json()["code"] == "input.too_large"


def test_unknown_route_and_method_are_problems(client: InProcessClient) -> None:
    """404 and 405 from routing are problem documents too."""
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    wrong = client.post("/v1/guest/acme/web")
    assert wrong.status_code == 405 and wrong.headers["content-type"] == PROBLEM


def test_bad_cursor_is_an_input_error(client: InProcessClient) -> None:
    """A cursor the API never issued is a 422, not a crash."""
    response = client.get("/v1/guest", params={"cursor": "not-a-cursor!"})
    assert response.status_code == 422


def test_pagination_walks_every_item_once(client: InProcessClient, service: Service) -> None:
    """limit=1 pages through all of acme's objects of a kind without repeats."""
    policy = client.get("/v1/policy/acme/web-in").json()["body"]
    for index in range(3):
        client.put(
            f"/v1/policy/acme/p{index}",
            json=dict(policy, name=f"p{index}"),
            headers={"If-None-Match": "*"},
        )
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/policy", params=params).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["p0", "p1", "p2", "web-in"]
