"""The suppression list's rule at ingest: a deleted user's new events are refused, not kept.

A user deleted at a privacy request goes on their workspace's suppression list. Their new
events, in any wire format, are rejected with the code `user_suppressed` and — unlike other
rejections — are not quarantined, since the quarantine keeps the raw JSON: only a count
remains (the `tracklog_events_suppressed` metric).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec

from tracklog.events import Problem

CODE = "user_suppressed"


def problem(user_id: str) -> Problem:
    """Why a suppressed user's event was refused, in words the sender can act on."""
    return Problem(
        CODE,
        "user_id",
        f"User {user_id!r} was deleted at a privacy request and is on this workspace's "
        "suppression list, so their events are refused. This event was not stored and not "
        "kept in quarantine either; only a count of refused events is kept.",
    )


def mentions(raw: bytes | str, ids: Collection[str]) -> str | None:
    """The first of `ids` that is a value anywhere in the JSON `raw` (a string or a number).

    Used for quarantined (and rejected) elements, which may use any wire format's field
    names (`user_id`, `userId`, `identity.id`, …). Raw text that is not JSON is searched
    for each id as a quoted JSON string.
    """
    if not ids:
        return None
    try:
        doc = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        for one in ids:
            if msgspec.json.encode(one).decode() in text:
                return one
        return None
    return _find(doc, ids)


def _find(value: Any, ids: Collection[str]) -> str | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if item in ids:
                return item
        elif isinstance(item, int) and not isinstance(item, bool) and str(item) in ids:
            return str(item)
    return None


def like_pattern(user_id: str) -> str:
    """A LIKE pattern that finds `user_id` in raw JSON, however the JSON escaped it.

    Only letters, digits and a few safe characters are kept; anything else (LIKE's own
    wildcards, quotes, backslashes, non-ASCII that a client may have written as \\u escapes)
    becomes `%`. The pattern finds too much rather than too little; `mentions` decides.
    """
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "-.@:+") else "%" for c in user_id)
    return f"%{kept}%"
