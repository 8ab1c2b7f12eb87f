"""Erasure requests on any store: suppress a user, then delete everything stored about them.

The request names an id; what is erased is the person it belongs to (tracklog/store/
persons.py): every event sent by one of their ids (their user id, the anonymous ids seen with
it, ids merged into it: tracked events, identify traits, group memberships, aliases), their
identity links and traits, and every quarantined element whose raw JSON names one of those
ids.

Deleting puts the user on the workspace's suppression list first (tracklog/ingest/
suppression.py: their new events are refused), then erases; every deletion is written to the
audit log. See docs/privacy.md.
"""

from __future__ import annotations

from typing import Any

from tracklog.admin import AdminError
from tracklog.events import iso, utcnow
from tracklog.ingest import suppression
from tracklog.privacy.audit import audit
from tracklog.store import persons, quarantine
from tracklog.store.base import Store, Suppression
from tracklog.store.persons import Person

MAX_USER_ID = 255


class PrivacyError(AdminError):
    """A request the administrator can correct (an empty or too long user id)."""


def check_user_id(user_id: str) -> str:
    """The user id, or a PrivacyError that says what is wrong with it."""
    if not user_id or len(user_id) > MAX_USER_ID:
        raise PrivacyError(f"A user id is 1 to {MAX_USER_ID} characters; got {len(user_id)}.")
    return user_id


def quarantined(store: Store, person: Person) -> list[quarantine.Held]:
    """The person's quarantined elements: those whose raw JSON names one of their ids."""
    ids = (person.user_id, *person.other_ids)
    candidates = quarantine.containing(
        store, person.workspace, [suppression.like_pattern(one) for one in ids]
    )
    return [h for h in candidates if suppression.mentions(h.raw, ids)]


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
    person = persons.find(store, workspace, check_user_id(user_id))
    by_type = persons.counts_by_type(store, person)
    held = quarantined(store, person)
    deleted = persons.delete(store, person)
    removed = quarantine.delete(store, workspace, [h.id for h in held])
    counts = {
        "events": deleted,
        "traits": int(by_type.get("identify", 0)),
        "group_memberships": int(by_type.get("group", 0)),
        "aliases": int(by_type.get("alias", 0)),
        "quarantined": removed,
        "anonymous_ids": len(person.other_ids),
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
