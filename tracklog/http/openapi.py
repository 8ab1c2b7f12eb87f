"""The OpenAPI document at /openapi.json, generated from each routes module's `operations`.

An `Operation` is the one declaration of an endpoint: its path, method, summary, security,
parameters, request body type and the answer type of each status. The route is made from it
(`Operation.route`), and the document's schemas come from the types by
`msgspec.json.schema_components`, so what the document says is what the code encodes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog import __version__
from tracklog.http.params import Param
from tracklog.http.schemas.common import ErrorAnswer

REF = "#/components/schemas/{name}"
JSON = "application/json"
# Any key in a header: `Authorization: Bearer <key>` or `x-api-key: <key>`.
KEY = ("bearer", "apiKey")
# Reads take a dashboard session's cookie too (tracklog/http/sessions.py).
READ = (*KEY, "session")
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "session": {"type": "apiKey", "in": "cookie", "name": "tracklog_session"},
    "basic": {"type": "http", "scheme": "basic"},
    "veroToken": {"type": "apiKey", "in": "query", "name": "auth_token"},
}
# What each error status means wherever it is declared.
ERROR_MEANINGS = {
    400: "the request is not valid; `error.field` names what to correct",
    401: "no key, or one this server does not know",
    403: "the key's scope or workspace may not do this",
    404: "nothing by that id in this workspace (or no such path)",
    408: "the body did not arrive in time",
    413: "the body is over the batch limit",
    415: "the body's encoding is not gzip, deflate or identity",
    429: "the key is over its rate limit; retry after `Retry-After` seconds",
    503: "the server is busy or its store unreachable; retry after `Retry-After` seconds",
}
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class AnyOf:
    """A body of one of several Struct types that carry no tag (a msgspec union needs one)."""

    types: tuple[Any, ...]

    def __init__(self, *types: Any) -> None:
        object.__setattr__(self, "types", types)


@dataclass(frozen=True)
class Answer:
    """One documented response: what it means, the type of its body and its media type
    (`also`: other media types the client may ask for, and their types); a `type` of None
    is an answer without a body (204)."""

    description: str
    type: Any
    media: str = JSON
    also: Mapping[str, Any] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        """Each media type and the type of its body (none without a body)."""
        return {self.media: self.type, **self.also} if self.type is not None else {}


def errors(*statuses: int, shape: Any = ErrorAnswer) -> dict[int, Answer]:
    """Error answers of these statuses, in the one error shape (or a dialect's own)."""
    return {status: Answer(ERROR_MEANINGS[status], shape) for status in statuses}


@dataclass(frozen=True)
class Operation:
    """One method on one path: the route and its description in the document."""

    method: str
    path: str
    endpoint: Endpoint
    summary: str
    answers: Mapping[int, Answer]
    params: Sequence[Param] = ()
    body: Any = None  # the request body's type (None: no body)
    body_required: bool = True
    security: Sequence[str] = KEY  # any one of these schemes; () for no key
    tags: Sequence[str] = ()

    def route(self) -> Route:
        """The Starlette route that serves it."""
        return Route(self.path, self.endpoint, methods=[self.method])

    def types(self) -> list[Any]:
        """Every type its document entry refers to."""
        found = [t for answer in self.answers.values() for t in answer.content().values()]
        return [*found, self.body] if self.body is not None else found

    def spec(self, schemas: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
        """The OpenAPI Operation object, the types' schemas taken from `schemas`."""
        spec: dict[str, Any] = {"summary": self.summary}
        if self.tags:
            spec["tags"] = list(self.tags)
        if self.security:
            spec["security"] = [{name: []} for name in self.security]
        if self.params:
            spec["parameters"] = [p.parameter() for p in self.params]
        if self.body is not None:
            content = {JSON: {"schema": schemas[self.body]}}
            spec["requestBody"] = {"required": self.body_required, "content": content}
        responses: dict[str, Any] = {}
        for status, answer in sorted(self.answers.items()):
            content = {media: {"schema": schemas[t]} for media, t in answer.content().items()}
            responses[str(status)] = {"description": answer.description}
            if content:
                responses[str(status)]["content"] = content
        spec["responses"] = responses
        return spec


def document(operations: Iterable[Operation]) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of these operations."""
    ops = list(operations)
    named = list(dict.fromkeys(t for op in ops for t in op.types()))
    unions = [t for t in named if isinstance(t, AnyOf)]
    types = list(
        dict.fromkeys(
            [t for t in named if not isinstance(t, AnyOf)]
            + [member for union in unions for member in union.types]
        )
    )
    generated, components = msgspec.json.schema_components(types, ref_template=REF)
    schemas: dict[Any, dict[str, Any]] = dict(zip(types, generated, strict=True))
    for union in unions:
        schemas[union] = {"anyOf": [schemas[member] for member in union.types]}
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = op.spec(schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tracklog",
            "version": __version__,
            "description": "Product-event tracking: Track API, read API and analytics.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
