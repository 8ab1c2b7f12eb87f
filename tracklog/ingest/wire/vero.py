"""Vero's Track API (seed 003): events/track, users/track, users/edit, users/reidentify.

Every Vero call is one JSON object. `auth_token` (the write key) may ride in it; it is taken
out before anything is decoded, so a key never reaches the quarantine's raw JSON.

- events/track: `identity.id` (or `identity.email`) → user_id, `event_name`, `data` →
  properties, `extras` → context.extras (`extras.created_at` → timestamp),
  `development_mode` → is_test. The identity's other attributes (email, name, …) are the
  user's traits: they go into context.traits and into an identify event stored beside it.
- users/track: `id` (or `email`), `email`, `data` → identify with traits.
- users/edit: `id` (or `email`), `changes` → identify with those traits.
- users/reidentify: `id`, `new_id` → alias (user_id=new_id, anonymous_id=id).
- users/tags/edit: `id`, `add`, `remove` → a `tags_edited` event on the user's timeline, with
  the lists as its properties (tags are Vero's segmentation, not a trait to overwrite).
- users/unsubscribe and users/resubscribe: `id` → identify with the trait `unsubscribed`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from tracklog.events import Problem, id_text
from tracklog.ingest.wire.common import (
    BodyError,
    Fields,
    Item,
    Names,
    build_event,
    decode_element,
    flag,
    not_json,
)

SOURCE = "vero"
# Vero's format has no account field: an event sent through it belongs to no account.
NAMES = Names(
    properties="data",
    account="event_name",
    account_hint=(
        ", but Vero's format has no account field: send it through the native Track API "
        "(`context.group_id`) or Segment's (`context.groupId`) instead"
    ),
)
Kind = Literal["event", "user", "edit", "reidentify", "tags", "unsubscribe", "resubscribe"]
KINDS: tuple[Kind, ...] = (
    "event",
    "user",
    "edit",
    "reidentify",
    "tags",
    "unsubscribe",
    "resubscribe",
)
TAGS_EVENT = "tags_edited"


class VeroEvent(msgspec.Struct):
    """POST /api/v2/events/track, loosely typed so checks can explain."""

    identity: Any = None
    event_name: Any = None
    data: Any = None
    extras: Any = None
    development_mode: Any = False


class VeroUser(msgspec.Struct):
    """POST /api/v2/users/track, PUT /api/v2/users/edit and PUT /api/v2/users/reidentify."""

    id: Any = None
    email: Any = None
    data: Any = None
    changes: Any = None
    new_id: Any = None
    add: Any = None
    remove: Any = None
    development_mode: Any = False


def parse(body: bytes) -> tuple[dict[str, Any], str | None, bytes]:
    """The body's object, the `auth_token` it carried, and its raw JSON without that token."""
    stripped = body.strip()
    if not stripped:
        raise BodyError("empty_body", "The request body is empty; send a JSON object.")
    try:
        doc = msgspec.json.decode(stripped)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise BodyError("invalid_json", not_json(body, exc)) from None
    if not isinstance(doc, dict):
        raise BodyError("invalid_body", "The request body must be one JSON object.")
    token = doc.pop("auth_token", None)
    if token is not None and not isinstance(token, str):
        raise BodyError("invalid_body", "`auth_token` must be a string.")
    raw = msgspec.json.encode(doc) if token is not None else stripped
    return doc, token or None, raw


def decode(body: bytes, workspace: str, received_at: dt.datetime, kind: Kind) -> list[Item]:
    """Decode one Vero call; the first Item is the call's own, an identify may follow."""
    _doc, _token, raw = parse(body)
    return decode_raw(raw, workspace, received_at, kind)


def decode_raw(raw: bytes, workspace: str, received_at: dt.datetime, kind: Kind) -> list[Item]:
    """Decode one Vero call's JSON, its auth_token already removed."""
    if kind == "event":
        event, problem = decode_element(msgspec.Raw(raw), VeroEvent)
        if event is None:
            return [_rejected(raw, problem)]
        return _event_items(event, raw, workspace, received_at)
    user, problem = decode_element(msgspec.Raw(raw), VeroUser)
    if user is None:
        return [_rejected(raw, problem)]
    problems = _user_problems(user, kind)
    if problems:
        return [_rejected(raw, *problems)]
    return [build_event(_user_fields(user, kind), raw, workspace, received_at, SOURCE)]


def _rejected(raw: bytes, *problems: Problem | None) -> Item:
    item = Item(raw=raw)
    for problem in problems:
        assert problem is not None
        item.reject(problem)
    return item


def _event_problems(event: VeroEvent) -> list[Problem]:
    """What makes an events/track call unreadable before its fields are checked."""
    if event.identity is None:
        return [
            Problem(
                "missing_field",
                "identity",
                '`identity` is required: an object with the user\'s "id" and "email".',
            )
        ]
    if not isinstance(event.identity, dict):
        return [Problem("invalid_identity", "identity", "`identity` must be a JSON object.")]
    if event.extras is not None and not isinstance(event.extras, dict):
        return [Problem("invalid_extras", "extras", "`extras` must be a JSON object.")]
    return []


def _user_problems(user: VeroUser, kind: Kind) -> list[Problem]:
    """The fields a user call cannot do without, beyond the user's id."""
    _, test_problem = _flag(user.development_mode)
    problems = [test_problem] if test_problem is not None else []
    if kind == "reidentify" and (user.id is None or user.id == ""):
        problems.append(Problem("missing_field", "id", "`id` is required: the user's current id."))
    if kind == "edit" and user.changes is None:
        problems.append(
            Problem("missing_field", "changes", "`changes` is required: the traits to set.")
        )
    if kind == "tags":
        for name in ("add", "remove"):
            value = getattr(user, name)
            if value is not None and not isinstance(value, list):
                problems.append(Problem("invalid_type", name, f"`{name}` must be a list of tags."))
        if user.add is None and user.remove is None:
            problems.append(
                Problem("missing_field", "add", "Send `add` or `remove`: a list of tags.")
            )
    return problems


def _event_items(
    event: VeroEvent, raw: bytes, workspace: str, received_at: dt.datetime
) -> list[Item]:
    is_test, test_problem = _flag(event.development_mode)
    identity = event.identity
    user_id: Any = None
    traits: dict[str, Any] = {}
    if isinstance(identity, dict):
        user_id = identity.get("id")
        if user_id is None or user_id == "":
            user_id = identity.get("email")
        traits = {k: v for k, v in identity.items() if k != "id" and v is not None}
    extras = event.extras
    created_at = extras.get("created_at") if isinstance(extras, dict) else None
    context: dict[str, Any] = {}
    if traits:
        context["traits"] = traits
    if extras is not None:
        context["extras"] = extras
    fields = Fields(
        type="track",
        event_name=event.event_name,
        user_id=user_id,
        user_id_field="identity.id",
        timestamp=created_at,
        timestamp_field="extras.created_at",
        properties=event.data,
        properties_field="data",
        context=context,
        is_test=is_test,
    )
    problems = _event_problems(event)
    if test_problem is not None:
        problems.append(test_problem)
    if problems:
        return [_rejected(raw, *problems)]
    item = build_event(fields, raw, workspace, received_at, SOURCE)
    if item.event is None or not traits:
        return [item]
    # The identity's attributes update the user's traits, as Vero does: an identify stored
    # beside the event, whose message id follows the event's so a retry dedupes both.
    identify = build_event(
        Fields(
            type="identify",
            user_id=user_id,
            user_id_field="identity.id",
            timestamp=created_at,
            timestamp_field="extras.created_at",
            properties=traits,
            properties_field="identity",
            message_id=f"vero-identity:{id_text(item.event.id)}",
            is_test=is_test,
        ),
        raw,
        workspace,
        received_at,
        SOURCE,
    )
    return [item, identify]


def _user_fields(user: VeroUser, kind: Kind) -> Fields:
    is_test, _ = _flag(user.development_mode)
    user_id = user.id if user.id is not None and user.id != "" else user.email
    if kind == "reidentify":
        return Fields(
            type="alias",
            user_id=user.new_id,
            user_id_field="new_id",
            anonymous_id=user.id,
            anonymous_id_field="id",
            properties={"previous_id": user.id},
            is_test=is_test,
        )
    if kind == "tags":
        return Fields(
            type="track",
            event_name=TAGS_EVENT,
            user_id=user_id,
            user_id_field="id",
            properties={"add": user.add or [], "remove": user.remove or []},
            is_test=is_test,
        )
    if kind in ("unsubscribe", "resubscribe"):
        traits, traits_field = {"unsubscribed": kind == "unsubscribe"}, "id"
    elif kind == "edit":
        traits, traits_field = user.changes, "changes"
    else:
        traits, traits_field = user.data, "data"
        if user.email is not None and (traits is None or isinstance(traits, dict)):
            traits = {**(traits or {}), "email": user.email}
    return Fields(
        type="identify",
        user_id=user_id,
        user_id_field="id",
        properties=traits,
        properties_field=traits_field,
        is_test=is_test,
    )


def _flag(value: Any) -> tuple[bool, Problem | None]:
    """development_mode: a boolean (the strings "true"/"false" too, for form-minded clients)."""
    return flag(value, "development_mode")


def source(kind: Kind) -> str:
    """The quarantine source name, which tells a replay how to decode the raw element again."""
    return f"{SOURCE}.{kind}"
