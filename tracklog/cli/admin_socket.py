"""The admin socket: the CLI's way to manage keys while a server owns the DuckDB file.

It listens on a Unix socket inside the data directory, so the file system's permissions
decide who may administer — no admin secret is stored anywhere.
"""

from __future__ import annotations

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog import admin
from tracklog.cli.commands import Command, known_workspace, run_command
from tracklog.http.responses import json_response
from tracklog.http.routes import privacy as privacy_api
from tracklog.http.runtime import Runtime


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
                    known_workspace(runtime.store, a["workspace"]),
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
