"""The OpenAPI document at /openapi.json. Modules add their paths with `register`."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from tracklog import __version__

_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "field": {"type": "string"},
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
        }
    },
}
_PROBLEM = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "field": {"type": "string"},
        "message": {"type": "string"},
    },
}
_EVENT_IN = {
    "type": "object",
    "description": "One event. `event` is accepted for `event_name`; `group_id` may be top-level.",
    "properties": {
        "event_name": {"type": "string", "maxLength": 255, "example": "signed_in"},
        "event": {"type": "string", "maxLength": 255},
        "user_id": {"type": "string", "maxLength": 255},
        "anonymous_id": {"type": "string", "maxLength": 255},
        "properties": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
        "sent_at": {"type": "string", "format": "date-time"},
        "context": {
            "type": "object",
            "properties": {"group_id": {"type": "string"}},
        },
        "group_id": {"type": "string"},
        "message_id": {"type": "string", "maxLength": 255},
    },
}
_IDENTIFY_IN = {
    "type": "object",
    "properties": {
        "user_id": {"type": "string"},
        "traits": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
        "message_id": {"type": "string"},
    },
    "required": ["user_id"],
}
_GROUP_IN = {
    "type": "object",
    "properties": {
        "group_id": {"type": "string"},
        "user_id": {"type": "string"},
        "traits": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
        "message_id": {"type": "string"},
    },
    "required": ["group_id"],
}
_RECEIPT = {
    "type": "object",
    "description": "Sent only after the accepted events are committed to disk.",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "status": {"enum": ["accepted", "duplicate", "rejected"]},
                    "id": {"type": "string", "format": "uuid"},
                    "code": {"type": "string"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "warnings": {"type": "array", "items": _PROBLEM},
                },
            },
        },
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "rejected": {"type": "integer"},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"description": "error", **_json(_ERROR)} for s in statuses}


def _ingest(summary: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": [{"bearer": []}, {"apiKey": []}],
            "requestBody": {
                "required": True,
                **_json({"oneOf": [{"type": "array", "items": item}, item]}),
            },
            "responses": {
                "200": {"description": "all accepted or duplicate", **_json(_RECEIPT)},
                "400": {"description": "some rejected (the rest are stored)", **_json(_RECEIPT)},
                **_errors(401, 403, 408, 413, 415, 429, 503),
            },
        }
    }


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_PAGING = [
    _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    _q("cursor", {"type": "string"}, "next_cursor of the previous page"),
    _q("from", {"type": "string", "format": "date-time"}),
    _q("to", {"type": "string", "format": "date-time"}),
    _q("include_test", {"type": "boolean"}, "include development-mode events"),
]


def _read(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "security": [{"bearer": []}, {"apiKey": []}],
            "parameters": parameters,
            "responses": {
                "200": {"description": "ok", **_json({"type": "object"})},
                **_errors(400, 401, 403, 404),
            },
        }
    }


PATHS: dict[str, Any] = {
    "/api/track": _ingest("Track events (a JSON array, or one event object).", _EVENT_IN),
    "/api/identify": _ingest("Set a user's traits.", _IDENTIFY_IN),
    "/api/group": _ingest("Set an account's traits and link a user to it.", _GROUP_IN),
    "/api/events": _read(
        "Events, newest first.",
        [
            _q("event_name", {"type": "string"}),
            _q("type", {"type": "string"}),
            _q("user_id", {"type": "string"}),
            _q("group_id", {"type": "string"}),
            *_PAGING,
        ],
    ),
    "/api/quarantine": _read("Rejected events with their raw JSON and reasons.", _PAGING[:2]),
    "/api/quarantine/replay": {
        "post": {
            "summary": "Replay quarantined events through the current plan (write key).",
            "security": [{"bearer": []}, {"apiKey": []}],
            "requestBody": _json(
                {
                    "type": "object",
                    "properties": {
                        "all": {"type": "boolean"},
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string", "format": "uuid"},
                                    "raw": {"type": "object"},
                                },
                                "required": ["id"],
                            },
                        },
                    },
                }
            ),
            "responses": {"200": {"description": "ok"}, **_errors(400, 401, 403)},
        }
    },
    "/api/users/{user_id}": {
        "get": {
            **_read("One user's traits, first and last seen, sign-ins, event counts.", [])["get"],
            "parameters": [
                {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
        }
    },
    "/healthz": {"get": {"summary": "Health", "responses": {"200": {"description": "ok"}}}},
}


# For modules that register their own read endpoints.
read_operation = _read
query_param = _q
RANGE_PARAMETERS = _PAGING[2:]


def register(paths: dict[str, Any]) -> None:
    """Add a module's paths to the document (methods of a path already there are added to it)."""
    for path, operations in paths.items():
        PATHS.setdefault(path, {}).update(operations)


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tracklog",
            "version": __version__,
            "description": "Product-event tracking: Track API, read API and analytics.",
        },
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "basic": {"type": "http", "scheme": "basic"},
                "veroToken": {"type": "apiKey", "in": "query", "name": "auth_token"},
            }
        },
    }
