"""Privacy endpoints (admin keys only): delete and export a user, the suppression list, audit.

Each acts on the key's own workspace; another workspace's admin key cannot reach its users.
The audit log names the key by its id (`key_…`), never the key.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracklog.http import params as qp
from tracklog.http.auth import authorize
from tracklog.http.openapi import Answer, Operation, errors
from tracklog.http.responses import json_response
from tracklog.http.runtime import Runtime
from tracklog.http.schemas.privacy import (
    AuditLog,
    Deleted,
    Export,
    ExportLine,
    Suppressions,
    Unsuppressed,
)
from tracklog.privacy import access, audit, erasure
from tracklog.store.base import StoreUnavailable

log = logging.getLogger("tracklog.privacy")
NDJSON = "application/x-ndjson"
# Late erasures in flight (a reference keeps a task from being collected before it ends).
_late: set[asyncio.Task[None]] = set()


USER_ID = qp.Path("user_id", max_len=erasure.MAX_USER_ID)
FORMAT = qp.Choice("format", options=("json", "ndjson"), default="json")
AUDIT_LIMIT = qp.Integer("limit", "entries at most", default=100, low=1, high=1000)


def _user_id(request: Request) -> str:
    user_id = USER_ID.read(request)
    try:
        return erasure.check_user_id(user_id)
    except erasure.PrivacyError as exc:
        raise qp.ParameterError("user_id", str(exc)) from None


async def delete_now(runtime: Runtime, workspace: str, user_id: str, actor: str) -> dict[str, Any]:
    """Suppress the user, let what was accepted before reach the store, then erase.

    The order matters: once this server's cache holds the suppression, no new event of the
    user is accepted here, and an empty group commit waits out the ones already queued, so
    the erase sees them. Other nodes sharing a ClickHouse store learn the suppression only
    at their next refresh (--key-refresh-seconds), so on a shared store the erase runs
    once more after that, for anything they accepted meanwhile.
    """
    await run_in_threadpool(erasure.suppress, runtime.store, workspace, user_id)
    await run_in_threadpool(runtime.reload)
    await runtime.committer.submit([], [])
    result = await run_in_threadpool(erasure.erase, runtime.store, workspace, user_id, actor)
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
            await run_in_threadpool(erasure.erase, store, workspace, user_id, actor, late=True)
    except StoreUnavailable as exc:
        log.warning("the second erase of a deleted user failed: %s", exc)
    except Exception:  # a background task: log it, since no request will see it
        log.exception("the second erase of a deleted user failed")


async def delete_user(request: Request) -> Response:
    """DELETE /api/users/{user_id}: erase the user's data and suppress their new events."""
    principal = await authorize(request, "admin")
    runtime: Runtime = request.app.state.runtime
    result = await delete_now(runtime, principal.workspace, _user_id(request), principal.key_id)
    return json_response(msgspec.convert(result, Deleted))


async def export_user(request: Request) -> Response:
    """GET /api/users/{user_id}/export: everything stored about the user (JSON or NDJSON)."""
    principal = await authorize(request, "admin")
    fmt = FORMAT.read(request)
    export = await run_in_threadpool(
        access.export_user,
        request.app.state.store,
        principal.workspace,
        _user_id(request),
        principal.key_id,
    )
    checked = msgspec.convert(export, Export)
    if fmt == "ndjson":
        return Response(access.as_ndjson(export), media_type=NDJSON)
    return json_response(checked)


async def list_suppressions(request: Request) -> Response:
    """GET /api/suppressions: the workspace's suppressed user ids."""
    principal = await authorize(request, "admin")
    found = await run_in_threadpool(
        erasure.suppressed, request.app.state.store, principal.workspace
    )
    return json_response(msgspec.convert({"suppressions": found}, Suppressions))


async def unsuppress(request: Request) -> Response:
    """DELETE /api/suppressions/{user_id}: accept the user's new events again."""
    principal = await authorize(request, "admin")
    runtime: Runtime = request.app.state.runtime
    result = await run_in_threadpool(
        erasure.unsuppress, runtime.store, principal.workspace, _user_id(request), principal.key_id
    )
    await run_in_threadpool(runtime.reload)
    return json_response(msgspec.convert(result, Unsuppressed))


async def audit_log(request: Request) -> Response:
    """GET /api/audit: the workspace's deletions, exports and retention drops, newest first."""
    principal = await authorize(request, "admin")
    limit = AUDIT_LIMIT.read(request)
    entries = await run_in_threadpool(
        audit.audit_log, request.app.state.store, principal.workspace, limit
    )
    return json_response(msgspec.convert({"entries": entries}, AuditLog))


_ADMIN_ERRORS = errors(400, 401, 403, 404, 503)

operations = (
    Operation(
        "DELETE",
        "/api/users/{user_id}",
        delete_user,
        "Delete a user's events, traits, group memberships and quarantined events, and "
        "refuse their new events (admin key). Answers with counts; audited.",
        {200: Answer("deleted: counts of what was erased", Deleted), **_ADMIN_ERRORS},
        params=(USER_ID,),
    ),
    Operation(
        "GET",
        "/api/users/{user_id}/export",
        export_user,
        "Everything stored about a user, for an access request (admin key); audited.",
        {
            200: Answer(
                "traits, groups, anonymous ids, events and quarantined elements: one JSON "
                "object, or with format=ndjson one line per part (the schema is one line's)",
                Export,
                also={NDJSON: ExportLine},
            ),
            **_ADMIN_ERRORS,
        },
        params=(USER_ID, FORMAT),
    ),
    Operation(
        "GET",
        "/api/suppressions",
        list_suppressions,
        "The workspace's suppressed users (admin key).",
        {200: Answer("suppressions", Suppressions), **errors(401, 403, 503)},
    ),
    Operation(
        "DELETE",
        "/api/suppressions/{user_id}",
        unsuppress,
        "Lift a suppression: accept the user's new events again (admin key); audited.",
        {200: Answer("suppressed: false", Unsuppressed), **_ADMIN_ERRORS},
        params=(USER_ID,),
    ),
    Operation(
        "GET",
        "/api/audit",
        audit_log,
        "Deletions, exports and retention drops: who (key id), what, when, counts (admin key).",
        {200: Answer("entries, newest first", AuditLog), **errors(400, 401, 403, 503)},
        params=(AUDIT_LIMIT,),
    ),
)
routes = [op.route() for op in operations]
