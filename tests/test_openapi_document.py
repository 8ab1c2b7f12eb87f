"""The OpenAPI document itself: every success answer has a schema that says what is in it.

Generated from the routes modules' typed operations (tracklog/http/openapi.py); no server
needed. tests/test_openapi_fuzz.py checks that the server's answers match these schemas.
"""

from __future__ import annotations

from typing import Any

import pytest

from tracklog.http.app import ROUTE_MODULES, api_document

DOC = api_document()
SCHEMAS = DOC["components"]["schemas"]
OPERATIONS = [
    (method.upper(), path, spec)
    for path, item in DOC["paths"].items()
    for method, spec in item.items()
]
# Free-form objects (a client's properties, traits, context) are objects of anything by
# design; every other object names its properties.
FREE_FORM = {"type": "object"}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema a `$ref` points to (or the schema itself)."""
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas a body may match: each branch of an anyOf/oneOf, resolved."""
    schema = resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return [alt for branch in branches for alt in alternatives(branch)]
    return [schema]


def weak_success_answers() -> list[str]:
    """Success answers without a schema, or whose schema lists no properties."""
    weak = []
    for method, path, spec in OPERATIONS:
        for status, answer in spec["responses"].items():
            if not status.startswith("2"):
                continue
            content = answer.get("content") or {}
            if not content and status != "204":  # a 204 has no body, by definition
                weak.append(f"{method} {path} {status}: no content")
            for media, body in content.items():
                schema = body.get("schema")
                if schema is None:
                    weak.append(f"{method} {path} {status} {media}: no schema")
                elif media.startswith("text/plain"):
                    # A text page (Prometheus' format) is a string, not an object.
                    if resolve(schema).get("type") != "string":
                        weak.append(f"{method} {path} {status} {media}: not a string")
                else:
                    for alt in alternatives(schema):
                        if not alt.get("properties"):
                            weak.append(f"{method} {path} {status} {media}: {alt}")
    return weak


def test_every_success_answer_has_a_schema_with_properties() -> None:
    assert weak_success_answers() == []


def test_every_operation_answers_success() -> None:
    """Each operation documents a 2xx, except Vero's delete, which always refuses."""
    without = [
        f"{method} {path}"
        for method, path, spec in OPERATIONS
        if not any(status.startswith("2") for status in spec["responses"])
    ]
    assert without == ["DELETE /api/v2/users/delete"]


def object_schemas(schema: Any) -> list[dict[str, Any]]:
    """Every schema inside `schema` that says it is an object."""
    found = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found.extend(object_schemas(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(object_schemas(value))
    return found


def test_only_free_form_objects_lack_properties() -> None:
    """A bare {"type": "object"} is a client's free-form object, never an answer's shape
    (a map such as event_counts says the type of its values)."""
    bare = [s for s in object_schemas(SCHEMAS) if "properties" not in s]
    assert all(s == FREE_FORM or "additionalProperties" in s for s in bare), bare
    for name, schema in SCHEMAS.items():
        assert schema.get("properties") or "anyOf" in schema, name


def test_every_error_answer_has_the_error_shape() -> None:
    """Tracklog's own errors are {"error": {code, field?, message}}; Vero's and Segment's
    carry that object beside their own fields."""
    for method, path, spec in OPERATIONS:
        for status, answer in spec["responses"].items():
            if status.startswith("2") or path == "/healthz":  # its 503 is a health answer
                continue
            for alt in alternatives(answer["content"]["application/json"]["schema"]):
                if "results" in alt["properties"]:  # an ingest 400: the receipt
                    continue
                error = resolve(alt["properties"]["error"])
                assert set(error["required"]) == {"code", "message"}, (method, path, status)
                assert set(error["properties"]) == {"code", "message", "field"}


@pytest.mark.parametrize("module", ROUTE_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_route_is_documented(module: Any) -> None:
    """Each routes module's routes come from its operations (Segment's one-letter aliases of
    documented calls aside)."""
    documented = {(op.method, op.path) for op in module.operations}
    for route in module.routes:
        for method in route.methods - {"HEAD"}:
            if (method, route.path) not in documented:
                assert route.path.startswith("/v1/") and len(route.path) == len("/v1/t")


def test_parameters_have_their_bounds() -> None:
    """Integers say their range and default; choices their options."""
    for method, path, spec in OPERATIONS:
        for p in spec.get("parameters", []):
            schema = p["schema"]
            if schema.get("type") == "integer":
                assert {"minimum", "maximum", "default"} <= set(schema), (method, path, p)
            if p["in"] == "path":
                assert p["required"] is True
