"""The administrative commands (workspaces, keys, privacy requests, retention, doctor's facts,
rebuilding the rollup).

One `Command` is carried out against a store by `run_command`, whether the CLI opened the
store itself or a running server received the command on its admin socket.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracklog import admin
from tracklog.privacy import access, audit, erasure, retention
from tracklog.store import maintenance
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
    elif command.action == "workspaces.set_timezone":
        result = admin.set_timezone(store, a["name"], a["timezone"])
    elif command.action == "keys.create":
        key, record = admin.create_key(
            store, a["workspace"], a["scope"], a.get("label", ""), _yes(a.get("test", ""))
        )
        result = {"key": key, "key_id": record.key_id, "test": record.test}
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
        result = maintenance.facts(store)
    elif command.action == "rollups.rebuild":
        workspace = a.get("workspace") or None
        if workspace is not None:
            known_workspace(store, workspace)
        result = maintenance.rebuild_rollups(store, workspace)
    else:
        raise admin.AdminError(f"Unknown command {command.action!r}.")
    return result


def _yes(text: str) -> bool:
    """A command's true/false argument (arguments travel as text)."""
    if text.lower() in ("", "0", "false", "no"):
        return False
    if text.lower() in ("1", "true", "yes"):
        return True
    raise admin.AdminError(f"Expected true or false, not {text!r}.")


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
        return erasure.delete_user(
            store, known_workspace(store, a["workspace"]), a["user_id"], actor
        )
    if command.action == "users.export":
        return access.export_user(
            store, known_workspace(store, a["workspace"]), a["user_id"], actor
        )
    if command.action == "users.suppressed":
        return erasure.suppressed(store, known_workspace(store, a["workspace"]))
    if command.action == "users.unsuppress":
        return erasure.unsuppress(
            store, known_workspace(store, a["workspace"]), a["user_id"], actor
        )
    if command.action == "audit.list":
        return audit.audit_log(store, a.get("workspace") or None, int(a.get("limit", "100")))
    if command.action == "retention.run":
        return retention.run(store, actor, a.get("workspace") or None)
    raise admin.AdminError(f"Unknown command {command.action!r}.")


def known_workspace(store: Store, workspace: str) -> str:
    """The workspace's name, or an AdminError if there is no such workspace."""
    if not any(w.name == workspace for w in store.workspaces()):
        raise admin.AdminError(f"No workspace named {workspace!r}; `tracklog workspaces list`.")
    return workspace
