"""Objects of the estate, one set of routes per kind, each with its model as the body schema.

``GET /v1/{kind}`` lists (cursor pagination); ``GET|PUT|DELETE /v1/{kind}/{owner}/{name}`` for
kinds a tenant can own, ``/v1/{kind}/{name}`` for the provider's, ``/v1/provider`` for the
provider itself. ``GET`` returns the store revision as the ``ETag``; ``PUT`` needs ``If-Match``
(or ``If-None-Match: *`` to create) and ``DELETE`` needs ``If-Match``: a stale write gets 409,
never a silent overwrite.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, create_model

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.errors import InputError, PreconditionRequiredError
from tenantry.model import KIND_INFO, PROVIDER, PROVIDER_REF, Kind, Model, Ref
from tenantry.service import Service

__all__ = ["etag", "expected_revision", "router"]

router = APIRouter(tags=["objects"])

Limit = Annotated[int, Query(ge=1, le=1000, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of a page")]
OwnerFilter = Annotated[str | None, Query(max_length=63, description="only this owner's")]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=64)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=64)]
OwnerPath = Annotated[str, Path(min_length=1, max_length=63)]
NamePath = Annotated[str, Path(min_length=1, max_length=200)]


def etag(revision: int) -> str:
    """The ETag of a revision."""
    return f'"{revision}"'


def _revision(header: str) -> int:
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise InputError(f"If-Match {header!r} is not an ETag of this API")
    return int(text)


def expected_revision(if_match: str | None, if_none_match: str | None) -> int:
    """The revision a write expects: 0 to create, the ETag's to replace."""
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise InputError("If-None-Match takes only '*' (create if it does not exist)")
        return 0
    if if_match is None:
        raise PreconditionRequiredError("send If-Match with the ETag you read, or If-None-Match: *")
    return _revision(if_match)


def _encode_cursor(ref: Ref) -> str:
    return base64.urlsafe_b64encode(json.dumps([ref.owner, ref.name]).encode()).decode()


def _decode_cursor(cursor: str) -> Ref:
    try:
        owner, name = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return Ref(str(owner), str(name))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InputError("cursor is not one this API returned") from exc


def _item(kind: Kind, ref: Ref, obj: Model, revision: int) -> dict[str, Any]:
    return {
        "kind": str(kind),
        "owner": ref.owner,
        "name": ref.name,
        "revision": revision,
        "body": obj,
    }


def list_page(
    service: Service,
    actor: ActorDep,
    kind: Kind,
    *,
    limit: int,
    cursor: str | None,
    owner: str | None,
) -> dict[str, Any]:
    """One page of the objects of a kind the actor may see."""
    rows = service.list_revisions(actor, kind)
    if owner is not None:
        rows = [row for row in rows if row[0].owner == owner]
    start = 0
    if cursor is not None:
        start = bisect_right([ref for ref, _, _ in rows], _decode_cursor(cursor))
    chosen = rows[start : start + limit]
    more = start + limit < len(rows)
    return {
        "items": [_item(kind, ref, obj, rev) for ref, obj, rev in chosen],
        "next_cursor": _encode_cursor(chosen[-1][0]) if more and chosen else None,
    }


def get_one(service: Service, actor: ActorDep, response: Response, kind: Kind, ref: Ref) -> Any:
    """One object, with its revision as the ETag."""
    obj, revision = service.get(actor, kind, ref)
    response.headers["ETag"] = etag(revision)
    return _item(kind, ref, obj, revision)


def put_one(
    service: Service,
    actor: ActorDep,
    response: Response,
    *,
    kind: Kind,
    ref: Ref,
    body: Model,
    preconditions: tuple[str | None, str | None],
) -> Any:
    """Create or replace one object under optimistic concurrency."""
    if kind is not Kind.PROVIDER and getattr(body, "name", ref.name) != ref.name:
        raise InputError(f"the body names {getattr(body, 'name', '')!r}, the path {ref.name!r}")
    expected = expected_revision(*preconditions)
    service.put(actor, kind, ref, body, expected_revision=expected)
    snapshot = service.snapshot()
    revision = snapshot.revisions[(kind, ref)]
    response.headers["ETag"] = etag(revision)
    response.status_code = 201 if expected == 0 else 200
    return _item(kind, ref, snapshot.estate.get(kind, ref) or body, revision)


def delete_one(
    service: Service, actor: ActorDep, kind: Kind, ref: Ref, if_match: str | None
) -> Response:
    """Delete one object at the revision the caller read."""
    if if_match is None:
        raise PreconditionRequiredError("send If-Match with the ETag you read")
    service.delete(actor, kind, ref, expected_revision=_revision(if_match))
    return Response(status_code=204)


def _models(kind: Kind) -> tuple[type[BaseModel], type[BaseModel]]:
    model = KIND_INFO[kind].model
    item: type[BaseModel] = create_model(
        f"{model.__name__}Object",
        kind=(str, ...),
        owner=(str, ...),
        name=(str, ...),
        revision=(int, ...),
        body=(model, ...),
    )
    page: type[BaseModel] = create_model(
        f"{model.__name__}Page",
        items=(list[item], ...),
        next_cursor=(str | None, ...),
    )
    return item, page


def _register(kind: Kind, path: str, functions: dict[str, Any], item: type[BaseModel]) -> None:
    snake = str(kind).replace("-", "_")
    model = KIND_INFO[kind].model
    for method, function in functions.items():
        if method == "PUT":
            # The body's schema is the kind's model: FastAPI reads it from the annotation.
            function.__annotations__["body"] = model
        shape: dict[str, Any] = (
            {"status_code": 204, "response_class": Response, "response_model": None}
            if method == "DELETE"
            else {"response_model": item}
        )
        if method == "PUT":
            shape["responses"] = {201: {"model": item, "description": "Created"}}
        router.add_api_route(
            path,
            function,
            methods=[method],
            operation_id=f"{method.lower()}_{snake}",
            summary=f"{method} one {kind}",
            **shape,
        )


def _owned(kind: Kind, item: type[BaseModel]) -> None:
    def get_object(
        owner: OwnerPath, name: NamePath, service: ServiceDep, actor: ActorDep, response: Response
    ) -> Any:
        return get_one(service, actor, response, kind, Ref(owner, name))

    def put_object(
        *,
        owner: OwnerPath,
        name: NamePath,
        body: Model,
        service: ServiceDep,
        actor: ActorDep,
        response: Response,
        if_match: IfMatch = None,
        if_none_match: IfNoneMatch = None,
    ) -> Any:
        ref = Ref(owner, name)
        preconditions = (if_match, if_none_match)
        return put_one(
            service, actor, response, kind=kind, ref=ref, body=body, preconditions=preconditions
        )

    def delete_object(
        owner: OwnerPath,
        name: NamePath,
        service: ServiceDep,
        actor: ActorDep,
        if_match: IfMatch = None,
    ) -> Response:
        return delete_one(service, actor, kind, Ref(owner, name), if_match)

    functions = {"GET": get_object, "PUT": put_object, "DELETE": delete_object}
    _register(kind, f"/v1/{kind}/{{owner}}/{{name}}", functions, item)


def _provider_owned(kind: Kind, item: type[BaseModel]) -> None:
    def get_object(name: NamePath, service: ServiceDep, actor: ActorDep, response: Response) -> Any:
        return get_one(service, actor, response, kind, Ref(PROVIDER, name))

    def put_object(
        *,
        name: NamePath,
        body: Model,
        service: ServiceDep,
        actor: ActorDep,
        response: Response,
        if_match: IfMatch = None,
        if_none_match: IfNoneMatch = None,
    ) -> Any:
        ref = Ref(PROVIDER, name)
        preconditions = (if_match, if_none_match)
        return put_one(
            service, actor, response, kind=kind, ref=ref, body=body, preconditions=preconditions
        )

    def delete_object(
        name: NamePath, service: ServiceDep, actor: ActorDep, if_match: IfMatch = None
    ) -> Response:
        return delete_one(service, actor, kind, Ref(PROVIDER, name), if_match)

    functions = {"GET": get_object, "PUT": put_object, "DELETE": delete_object}
    _register(kind, f"/v1/{kind}/{{name}}", functions, item)


def _singleton(item: type[BaseModel]) -> None:
    def get_object(service: ServiceDep, actor: ActorDep, response: Response) -> Any:
        return get_one(service, actor, response, Kind.PROVIDER, PROVIDER_REF)

    def put_object(
        *,
        body: Model,
        service: ServiceDep,
        actor: ActorDep,
        response: Response,
        if_match: IfMatch = None,
        if_none_match: IfNoneMatch = None,
    ) -> Any:
        preconditions = (if_match, if_none_match)
        return put_one(
            service,
            actor,
            response,
            kind=Kind.PROVIDER,
            ref=PROVIDER_REF,
            body=body,
            preconditions=preconditions,
        )

    _register(Kind.PROVIDER, "/v1/provider", {"GET": get_object, "PUT": put_object}, item)


def _lister(kind: Kind, page: type[BaseModel]) -> None:
    def list_objects(
        service: ServiceDep,
        actor: ActorDep,
        limit: Limit = 100,
        cursor: Cursor = None,
        owner: OwnerFilter = None,
    ) -> Any:
        return list_page(service, actor, kind, limit=limit, cursor=cursor, owner=owner)

    router.add_api_route(
        f"/v1/{kind}",
        list_objects,
        methods=["GET"],
        response_model=page,
        operation_id=f"list_{str(kind).replace('-', '_')}",
        summary=f"List the {kind} objects you may see",
    )


for _kind, _info in KIND_INFO.items():
    _item_model, _page_model = _models(_kind)
    if _kind is Kind.PROVIDER:
        _singleton(_item_model)
        continue
    _lister(_kind, _page_model)
    if _info.owned:
        _owned(_kind, _item_model)
    else:
        _provider_owned(_kind, _item_model)
