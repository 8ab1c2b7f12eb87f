"""Access requests: everything stored about one user, as JSON or NDJSON; audited."""

from __future__ import annotations

from typing import Any

import msgspec

from tracklog.events import iso, utcnow
from tracklog.privacy.audit import audit
from tracklog.privacy.erasure import check_user_id, quarantined
from tracklog.store import persons
from tracklog.store.base import Store


def export_user(store: Store, workspace: str, user_id: str, actor: str) -> dict[str, Any]:
    """Everything stored about a user, for an access request; audited.

    `traits` merges their identify traits, oldest first (the latest value of each wins);
    `groups` lists each account they joined with the traits their group calls sent.
    """
    person = persons.find(store, workspace, check_user_id(user_id))
    events = persons.all_events(store, person)
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
    held = [h.shown() for h in quarantined(store, person)]
    on_list = any(s.workspace == workspace and s.user_id == user_id for s in store.suppressions())
    counts = {"events": len(events), "quarantined": len(held)}
    audit(store, workspace, actor, "user.export", user_id, counts)
    return {
        "workspace": workspace,
        "user_id": user_id,
        "exported_at": iso(utcnow()),
        "suppressed": on_list,
        "traits": traits,
        "anonymous_ids": list(person.other_ids),
        "groups": sorted(groups.values(), key=lambda g: str(g["group_id"])),
        "events": events,
        "quarantined": held,
    }


def as_ndjson(export: dict[str, Any]) -> bytes:
    """An export as NDJSON: a `user` line, then one line per event and quarantined element."""
    head = {k: v for k, v in export.items() if k not in ("events", "quarantined")}
    lines = [msgspec.json.encode({"kind": "user", **head})]
    lines += [msgspec.json.encode({"kind": "event", **e}) for e in export["events"]]
    lines += [msgspec.json.encode({"kind": "quarantined", **q}) for q in export["quarantined"]]
    return b"\n".join(lines) + b"\n"
