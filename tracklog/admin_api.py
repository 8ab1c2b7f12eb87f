"""The admin socket: the CLI's way to manage keys while a server owns the DuckDB file.

It listens on a Unix socket inside the data directory, so the file system's permissions
decide who may administer — no admin secret is stored anywhere.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog import admin, privacy, privacy_api
from tracklog.api import json_response
from tracklog.runtime import Runtime
from tracklog.store.base import Store

SOCKET_NAME = "admin.sock"


class Command(msgspec.Struct):
    """One administrative command: its name and arguments."""

    action: str
    args: dict[str, str] = {}


def run_command(store: Store, command: Command) -> Any:
    """Carry out one command against a store; used by the socket and the CLI."""
    a = command.args
    result: Any
    if command.action == "workspaces.create":
        result = admin.create_workspace(store, a["name"], a.get("plan_mode", "warn"))
    elif command.action == "workspaces.list":
        result = store.workspaces()
    elif command.action == "workspaces.set_mode":
        result = admin.set_plan_mode(store, a["name"], a["plan_mode"])
    elif command.action == "workspaces.set_retention":
        result = admin.set_retention(store, a["name"], _days(a["retention_days"]))
    elif command.action == "keys.create":
        key, record = admin.create_key(store, a["workspace"], a["scope"], a.get("label", ""))
        result = {"key": key, "key_id": record.key_id}
    elif command.action == "keys.list":
        result = [
            {k: v for k, v in msgspec.structs.asdict(r).items() if k != "key_hash"}
            for r in store.key_records()
        ]
    elif command.action == "keys.revoke":
        result = admin.revoke_key(store, a["key_id"]).key_id
    elif command.action.startswith(("users.", "audit.", "retention.")):
        result = _privacy_command(store, command)
    elif command.action == "doctor.facts":
        from tracklog.doctor import store_facts

        result = store_facts(store)
    else:
        raise admin.AdminError(f"Unknown command {command.action!r}.")
    return result


def _days(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise admin.AdminError(f"Retention days must be a whole number, not {text!r}.") from None


def _privacy_command(store: Store, command: Command) -> Any:
    """Privacy requests; the actor is who the CLI says runs it (there is no key)."""
    a = command.args
    actor = a.get("actor", "cli")
    if command.action == "users.delete":
        return privacy.delete_user(store, _known(store, a["workspace"]), a["user_id"], actor)
    if command.action == "users.export":
        return privacy.export_user(store, _known(store, a["workspace"]), a["user_id"], actor)
    if command.action == "users.suppressed":
        return privacy.suppressed(store, _known(store, a["workspace"]))
    if command.action == "users.unsuppress":
        return privacy.unsuppress(store, _known(store, a["workspace"]), a["user_id"], actor)
    if command.action == "audit.list":
        return privacy.audit_log(store, a.get("workspace") or None, int(a.get("limit", "100")))
    if command.action == "retention.run":
        from tracklog import retention

        return retention.run(store, actor, a.get("workspace") or None)
    raise admin.AdminError(f"Unknown command {command.action!r}.")


def _known(store: Store, workspace: str) -> str:
    if not any(w.name == workspace for w in store.workspaces()):
        raise admin.AdminError(f"No workspace named {workspace!r}; `tracklog workspaces list`.")
    return workspace


def create_admin_app(runtime: Runtime) -> Starlette:
    """The app served on the admin socket."""

    async def handle(request: Request) -> Response:
        try:
            command = msgspec.json.decode(await request.body(), type=Command)
            a = command.args
            if command.action == "users.delete":
                # As over HTTP: suppress, drain the commit queue, then erase.
                result = await privacy_api.delete_now(
                    runtime,
                    _known(runtime.store, a["workspace"]),
                    a["user_id"],
                    a.get("actor", "cli"),
                )
            else:
                result = await run_in_threadpool(run_command, runtime.store, command)
            await run_in_threadpool(runtime.reload)
        except (admin.AdminError, msgspec.DecodeError, KeyError) as exc:  # PrivacyError too
            return json_response({"error": {"code": "admin_error", "message": str(exc)}}, 400)
        return json_response({"result": result})

    return Starlette(routes=[Route("/admin", handle, methods=["POST"])])
