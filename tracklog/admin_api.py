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

from tracklog import admin
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
    elif command.action == "doctor.facts":
        from tracklog.doctor import store_facts

        result = store_facts(store)
    else:
        raise admin.AdminError(f"Unknown command {command.action!r}.")
    return result


def create_admin_app(runtime: Runtime) -> Starlette:
    """The app served on the admin socket."""

    async def handle(request: Request) -> Response:
        try:
            command = msgspec.json.decode(await request.body(), type=Command)
            result = await run_in_threadpool(run_command, runtime.store, command)
            await run_in_threadpool(runtime.reload)
        except (admin.AdminError, msgspec.DecodeError, KeyError) as exc:
            return json_response({"error": {"code": "admin_error", "message": str(exc)}}, 400)
        return json_response({"result": result})

    return Starlette(routes=[Route("/admin", handle, methods=["POST"])])
