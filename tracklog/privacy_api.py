"""Privacy endpoints (admin keys only): delete and export a user, the suppression list, audit.

Each acts on the key's own workspace; another workspace's admin key cannot reach its users.
The audit log names the key by its id (`key_…`), never the key.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog import privacy
from tracklog import query_params as qp
from tracklog.api import json_response
from tracklog.auth import authorize
from tracklog.openapi import query_param, register
from tracklog.runtime import Runtime
from tracklog.store.base import StoreUnavailable

log = logging.getLogger("tracklog.privacy")
# Late erasures in flight (a reference keeps a task from being collected before it ends).
_late: set[asyncio.Task[None]] = set()


def _user_id(request: Request) -> str:
    user_id: str = request.path_params["user_id"]
    try:
        return privacy.check_user_id(user_id)
    except privacy.PrivacyError as exc:
        raise qp.ParameterError("user_id", str(exc)) from None


async def delete_now(runtime: Runtime, workspace: str, user_id: str, actor: str) -> dict[str, Any]:
    """Suppress the user, let what was accepted before reach the store, then erase.

    The order matters: once this server's cache holds the suppression, no new event of the
    user is accepted here, and an empty group commit waits out the ones already queued, so
    the erase sees them. Other nodes sharing a ClickHouse store learn the suppression only
    at their next refresh (--key-refresh-seconds), so on a shared store the erase runs
    once more after that, for anything they accepted meanwhile.
    """
    await run_in_threadpool(privacy.suppress, runtime.store, workspace, user_id)
    await run_in_threadpool(runtime.reload)
    await runtime.committer.submit([], [])
    result = await run_in_threadpool(privacy.erase, runtime.store, workspace, user_id, actor)
    if runtime.store.dialect == "clickhouse":
        # Another node's cache may be up to one refresh old, and it then commits within
        # its commit interval: wait for both, with a second to spare.
        wait = runtime.settings.key_refresh_seconds + runtime.store.commit_interval + 1.0
        task = asyncio.create_task(_erase_late(runtime, workspace, user_id, actor, wait))
        _late.add(task)
        task.add_done_callback(_late.discard)
    return result


async def _erase_late(
    runtime: Runtime, workspace: str, user_id: str, actor: str, wait: float
) -> None:
    await asyncio.sleep(wait)
    try:
        await run_in_threadpool(runtime.reload)
        if user_id in runtime.suppressed(workspace):  # not lifted in the meantime
            store = runtime.store
            await run_in_threadpool(privacy.erase, store, workspace, user_id, actor, late=True)
    except StoreUnavailable as exc:
        log.warning("the second erase of a deleted user failed: %s", exc)
    except Exception:  # a background task: log it, since no request will see it
        log.exception("the second erase of a deleted user failed")


async def delete_user(request: Request) -> Response:
    """DELETE /api/users/{user_id}: erase the user's data and suppress their new events."""
    principal = await authorize(request, "admin")
    runtime: Runtime = request.app.state.runtime
    result = await delete_now(runtime, principal.workspace, _user_id(request), principal.key_id)
    return json_response(result)


async def export_user(request: Request) -> Response:
    """GET /api/users/{user_id}/export: everything stored about the user (JSON or NDJSON)."""
    principal = await authorize(request, "admin")
    fmt = qp.text(request, "format") or "json"
    if fmt not in ("json", "ndjson"):
        raise qp.ParameterError("format", "`format` is json or ndjson.")
    export = await run_in_threadpool(
        privacy.export_user,
        request.app.state.store,
        principal.workspace,
        _user_id(request),
        principal.key_id,
    )
    if fmt == "ndjson":
        return Response(privacy.as_ndjson(export), media_type="application/x-ndjson")
    return json_response(export)


async def list_suppressions(request: Request) -> Response:
    """GET /api/suppressions: the workspace's suppressed user ids."""
    principal = await authorize(request, "admin")
    found = await run_in_threadpool(
        privacy.suppressed, request.app.state.store, principal.workspace
    )
    return json_response({"suppressions": found})


async def unsuppress(request: Request) -> Response:
    """DELETE /api/suppressions/{user_id}: accept the user's new events again."""
    principal = await authorize(request, "admin")
    runtime: Runtime = request.app.state.runtime
    result = await run_in_threadpool(
        privacy.unsuppress, runtime.store, principal.workspace, _user_id(request), principal.key_id
    )
    await run_in_threadpool(runtime.reload)
    return json_response(result)


async def audit_log(request: Request) -> Response:
    """GET /api/audit: the workspace's deletions, exports and retention drops, newest first."""
    principal = await authorize(request, "admin")
    limit = qp.integer(request, "limit", 100, 1, 1000)
    entries = await run_in_threadpool(
        privacy.audit_log, request.app.state.store, principal.workspace, limit
    )
    return json_response({"entries": entries})


routes = [
    Route("/api/users/{user_id}", delete_user, methods=["DELETE"]),
    Route("/api/users/{user_id}/export", export_user, methods=["GET"]),
    Route("/api/suppressions", list_suppressions, methods=["GET"]),
    Route("/api/suppressions/{user_id}", unsuppress, methods=["DELETE"]),
    Route("/api/audit", audit_log, methods=["GET"]),
]

_USER = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ADMIN: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def _op(summary: str, parameters: list[dict[str, Any]], ok: str) -> dict[str, Any]:
    errors = {s: {"description": "error (403: not an admin key)"} for s in ("400", "401", "403")}
    return {
        "summary": summary,
        "security": _ADMIN,
        "parameters": parameters,
        "responses": {"200": {"description": ok}, **errors, "503": {"description": "retry"}},
    }


register(
    {
        "/api/users/{user_id}": {
            "delete": _op(
                "Delete a user's events, traits, group memberships and quarantined events, and "
                "refuse their new events (admin key). Answers with counts; audited.",
                [_USER],
                "deleted: counts of what was erased",
            ),
        },
        "/api/users/{user_id}/export": {
            "get": _op(
                "Everything stored about a user, for an access request (admin key); audited.",
                [_USER, query_param("format", {"enum": ["json", "ndjson"]}, "default json")],
                "traits, groups, anonymous ids, events and quarantined elements",
            )
        },
        "/api/suppressions": {
            "get": _op("The workspace's suppressed users (admin key).", [], "suppressions")
        },
        "/api/suppressions/{user_id}": {
            "delete": _op(
                "Lift a suppression: accept the user's new events again (admin key); audited.",
                [_USER],
                "suppressed: false",
            )
        },
        "/api/audit": {
            "get": _op(
                "Deletions, exports and retention drops: who (key id), what, when, counts "
                "(admin key).",
                [query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
                "entries, newest first",
            )
        },
    }
)
