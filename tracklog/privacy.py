"""Privacy requests on any store: delete a user, export what is stored about them, and audit.

A person is their user id plus the anonymous ids seen together with it (identify, alias or
tracked events): the same person map the reports use (tracklog/analytics/scope.py). Their
data is every event with their user id (tracked events, identify traits, group memberships,
aliases), every event of one of their anonymous ids that carries no user id, and every
quarantined element whose raw JSON names one of those ids.

Deleting puts the user on the workspace's suppression list first (tracklog/suppression.py),
then erases; every deletion and export is written to the audit log. See docs/privacy.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from tracklog import suppression
from tracklog.admin import AdminError
from tracklog.api import event_columns, event_row, iso
from tracklog.events import utcnow
from tracklog.store.base import AuditEntry, Store, Suppression

MAX_USER_ID = 255
_decode = msgspec.json.Decoder()
# Quarantine ids per DELETE statement: keeps one statement's text bounded.
_CHUNK = 1000


class PrivacyError(AdminError):
    """A request the administrator can correct (an empty or too long user id)."""


@dataclass(frozen=True)
class Person:
    """One user of a workspace and the anonymous ids linked to them."""

    workspace: str
    user_id: str
    anonymous_ids: tuple[str, ...]


def check_user_id(user_id: str) -> str:
    """The user id, or a PrivacyError that says what is wrong with it."""
    if not user_id or len(user_id) > MAX_USER_ID:
        raise PrivacyError(f"A user id is 1 to {MAX_USER_ID} characters; got {len(user_id)}.")
    return user_id


def find_person(store: Store, workspace: str, user_id: str) -> Person:
    """The user and every anonymous id seen on an event together with their user id."""
    p = store.placeholder
    rows = store.query(
        f"SELECT DISTINCT anonymous_id FROM {store.events_table} WHERE workspace = {p('ws')} "
        f"AND user_id = {p('uid')} AND coalesce(anonymous_id, '') != ''",
        {"ws": workspace, "uid": user_id},
    )
    return Person(workspace, user_id, tuple(sorted(str(r[0]) for r in rows)))


def events_where(store: Store, person: Person) -> tuple[str, dict[str, Any]]:
    """SQL (and its parameters) matching every event of `person`."""
    p = store.placeholder
    params: dict[str, Any] = {"ws": person.workspace, "uid": person.user_id}
    mine = f"user_id = {p('uid')}"
    if person.anonymous_ids:
        names = [f"a{i}" for i in range(len(person.anonymous_ids))]
        params.update(zip(names, person.anonymous_ids, strict=True))
        listed = ", ".join(p(n) for n in names)
        mine += f" OR (coalesce(user_id, '') = '' AND anonymous_id IN ({listed}))"
    return f"workspace = {p('ws')} AND ({mine})", params


def quarantined(store: Store, person: Person) -> list[tuple[Any, ...]]:
    """The person's quarantined elements as (id, received_ms, source, raw, reasons) rows."""
    p = store.placeholder
    ids = (person.user_id, *person.anonymous_ids)
    params: dict[str, Any] = {"ws": person.workspace}
    likes = []
    for i, one in enumerate(ids):
        params[f"l{i}"] = suppression.like_pattern(one)
        likes.append(f"raw LIKE {p(f'l{i}')}")
    rows = store.query(
        f"SELECT id, {store.epoch_ms('received_at')}, source, raw, reasons FROM quarantine "
        f"WHERE workspace = {p('ws')} AND ({' OR '.join(likes)})",
        params,
    )
    return [r for r in rows if suppression.mentions(r[3], ids)]


def suppress(store: Store, workspace: str, user_id: str) -> None:
    """Put a user on the workspace's suppression list (once; again is harmless)."""
    store.save_suppression(Suppression(workspace, check_user_id(user_id), utcnow()))


def unsuppress(store: Store, workspace: str, user_id: str, actor: str) -> dict[str, Any]:
    """Lift a suppression, so the user's new events are accepted again; audited."""
    store.save_suppression(Suppression(workspace, check_user_id(user_id), utcnow(), active=False))
    audit(store, workspace, actor, "user.unsuppress", user_id, {})
    return {"workspace": workspace, "user_id": user_id, "suppressed": False}


def suppressed(store: Store, workspace: str) -> list[dict[str, Any]]:
    """A workspace's suppression list, oldest first."""
    return [
        {"user_id": s.user_id, "suppressed_at": iso(s.created_at)}
        for s in store.suppressions()
        if s.workspace == workspace
    ]


def erase(
    store: Store, workspace: str, user_id: str, actor: str, late: bool = False
) -> dict[str, Any]:
    """Delete everything stored about a user (see the module docstring); audited.

    Answers with counts: events in all, of which traits (identify), group memberships and
    aliases; quarantined elements; and how many anonymous ids were linked to the user.
    `late`: the second pass after other nodes learned the suppression, audited (as
    `user.delete.late`) only when it found something.
    """
    person = find_person(store, workspace, check_user_id(user_id))
    where, params = events_where(store, person)
    by_type = dict(
        store.query(
            f"SELECT type, count(*) FROM {store.events_table} WHERE {where} GROUP BY type", params
        )
    )
    held = quarantined(store, person)
    deleted = store.delete_rows("events", where, params)
    removed = 0
    p = store.placeholder
    for start in range(0, len(held), _CHUNK):
        chunk = [r[0] for r in held[start : start + _CHUNK]]
        ids = {f"q{i}": qid for i, qid in enumerate(chunk)}
        listed = ", ".join(p(n) for n in ids)
        removed += store.delete_rows(
            "quarantine", f"workspace = {p('ws')} AND id IN ({listed})", {"ws": workspace, **ids}
        )
    counts = {
        "events": deleted,
        "traits": int(by_type.get("identify", 0)),
        "group_memberships": int(by_type.get("group", 0)),
        "aliases": int(by_type.get("alias", 0)),
        "quarantined": removed,
        "anonymous_ids": len(person.anonymous_ids),
    }
    if not late:
        audit(store, workspace, actor, "user.delete", user_id, counts)
    elif deleted or removed:
        audit(store, workspace, actor, "user.delete.late", user_id, counts)
    return {"workspace": workspace, "user_id": user_id, "deleted": counts, "suppressed": True}


def delete_user(store: Store, workspace: str, user_id: str, actor: str) -> dict[str, Any]:
    """Suppress, then erase: what the CLI does when it opens the store itself."""
    suppress(store, workspace, user_id)
    return erase(store, workspace, user_id, actor)


def export_user(store: Store, workspace: str, user_id: str, actor: str) -> dict[str, Any]:
    """Everything stored about a user, for an access request; audited.

    `traits` merges their identify traits, oldest first (the latest value of each wins);
    `groups` lists each account they joined with the traits their group calls sent.
    """
    person = find_person(store, workspace, check_user_id(user_id))
    where, params = events_where(store, person)
    ts = store.epoch_ms("timestamp")
    rows = store.query(
        f"SELECT {event_columns(store)} FROM {store.events_table} WHERE {where} ORDER BY {ts}, id",
        params,
    )
    events = [event_row(r) for r in rows]
    traits: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "identify" and event["user_id"] == user_id:
            traits.update(event["properties"])
        if event["group_id"]:
            group = groups.setdefault(
                event["group_id"],
                {"group_id": event["group_id"], "first_seen": event["timestamp"], "traits": {}},
            )
            if event["type"] == "group":
                group["traits"].update(event["properties"])
    held = [
        {
            "id": str(r[0]),
            "received_at": iso(r[1]),
            "source": r[2],
            "raw": r[3],
            "reasons": _decode.decode(r[4]),
        }
        for r in quarantined(store, person)
    ]
    on_list = any(s.workspace == workspace and s.user_id == user_id for s in store.suppressions())
    counts = {"events": len(events), "quarantined": len(held)}
    audit(store, workspace, actor, "user.export", user_id, counts)
    return {
        "workspace": workspace,
        "user_id": user_id,
        "exported_at": iso(utcnow()),
        "suppressed": on_list,
        "traits": traits,
        "anonymous_ids": list(person.anonymous_ids),
        "groups": sorted(groups.values(), key=lambda g: str(g["group_id"])),
        "events": events,
        "quarantined": held,
    }


def audit(
    store: Store, workspace: str, actor: str, action: str, subject: str, counts: dict[str, int]
) -> AuditEntry:
    """Record one act in the audit log."""
    entry = AuditEntry(uuid.uuid4(), workspace, utcnow(), actor, action, subject, counts)
    store.add_audit(entry)
    return entry


def audit_log(store: Store, workspace: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audit entries as the API shows them."""
    return [
        {
            "id": str(e.id),
            "workspace": e.workspace,
            "at": iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "counts": e.counts,
        }
        for e in store.audit_entries(workspace, limit)
    ]


def as_ndjson(export: dict[str, Any]) -> bytes:
    """An export as NDJSON: a `user` line, then one line per event and quarantined element."""
    head = {k: v for k, v in export.items() if k not in ("events", "quarantined")}
    lines = [msgspec.json.encode({"kind": "user", **head})]
    lines += [msgspec.json.encode({"kind": "event", **e}) for e in export["events"]]
    lines += [msgspec.json.encode({"kind": "quarantined", **q}) for q in export["quarantined"]]
    return b"\n".join(lines) + b"\n"
