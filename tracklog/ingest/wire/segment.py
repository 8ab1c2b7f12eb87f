"""Segment's HTTP Tracking API: track, identify, group, page, screen, alias and batch.

camelCase messages (`userId`, `anonymousId`, `messageId`, `sentAt`, `groupId`, `previousId`).
A batch's own `context` and `integrations` are laid under each message's (the message's keys
win), and its `sentAt` stands for messages that carry none, as Segment's Python library sends
it. Identity: identify keeps both `userId` and `anonymousId`; alias stores user_id=userId and
anonymous_id=previousId, so analytics can make one person of the two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

import msgspec

from tracklog.events import EventType, Problem
from tracklog.ingest.wire.common import (
    BodyError,
    Fields,
    Item,
    Names,
    build_event,
    decode_element,
    not_json,
)

SOURCE = "segment"
NAMES = Names(
    event_name="event",
    account="context.groupId",
    account_hint=" in `context.groupId` (or a top-level `groupId`)",
)
Call = Literal["track", "identify", "group", "page", "screen", "alias", "batch"]
CALLS: tuple[Call, ...] = ("track", "identify", "group", "page", "screen", "alias", "batch")
_TYPES = ("track", "identify", "group", "page", "screen", "alias")


class Message(msgspec.Struct, rename="camel"):
    """One Segment message, loosely typed so checks can explain."""

    type: Any = None
    user_id: Any = None
    anonymous_id: Any = None
    event: Any = None
    name: Any = None
    category: Any = None
    properties: Any = None
    traits: Any = None
    group_id: Any = None
    previous_id: Any = None
    context: Any = None
    integrations: Any = None
    timestamp: Any = None
    original_timestamp: Any = None
    sent_at: Any = None
    message_id: Any = None


class Envelope(msgspec.Struct, rename="camel"):
    """What a body carries besides its message(s): the key and, for a batch, its defaults."""

    write_key: Any = None
    batch: list[msgspec.Raw] | None = None
    context: Any = None
    integrations: Any = None
    sent_at: Any = None


class _KeyOnly(msgspec.Struct, rename="camel"):
    """A single message's body, read only for its `writeKey`."""

    write_key: Any = None


def parse(body: bytes, call: Call) -> tuple[Envelope, str | None]:
    """The body's envelope and the `writeKey` it carried (None when absent)."""
    stripped = body.strip()
    if not stripped:
        raise BodyError("empty_body", "The request body is empty; send a JSON object.")
    try:
        if stripped[:1] != b"{":
            msgspec.json.decode(stripped)
            raise BodyError("invalid_body", "The request body must be one JSON object.")
        if call == "batch":
            envelope = msgspec.json.decode(stripped, type=Envelope)
        else:
            envelope = Envelope(write_key=msgspec.json.decode(stripped, type=_KeyOnly).write_key)
    except msgspec.ValidationError as exc:
        raise BodyError("invalid_body", f"The request body could not be read: {exc}.") from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise BodyError("invalid_json", not_json(body, exc)) from None
    key = envelope.write_key
    if key is not None and not isinstance(key, str):
        raise BodyError("invalid_body", "`writeKey` must be a string.")
    return envelope, key or None


def decode(body: bytes, workspace: str, received_at: dt.datetime, call: Call) -> list[Item]:
    """Decode a body sent to /v1/<call> into one Item per message."""
    envelope, _key = parse(body, call)
    return decode_envelope(envelope, body, workspace, received_at, call)


def decode_envelope(
    envelope: Envelope, body: bytes, workspace: str, received_at: dt.datetime, call: Call
) -> list[Item]:
    """Decode a parsed body: a batch's messages, or the one message the body is."""
    if call != "batch":
        raw = body.strip()
        if envelope.write_key is not None:
            raw = _without_write_key(raw)
        return [_item(msgspec.Raw(raw), None, workspace, received_at, call)]
    if envelope.batch is None:
        raise BodyError(
            "invalid_body", "`batch` is required: a JSON array of messages, each with a `type`."
        )
    if envelope.context is not None and not isinstance(envelope.context, dict):
        raise BodyError("invalid_body", "`context` must be a JSON object.")
    if envelope.integrations is not None and not isinstance(envelope.integrations, dict):
        raise BodyError("invalid_body", "`integrations` must be a JSON object.")
    return [_item(raw, envelope, workspace, received_at, None) for raw in envelope.batch]


def decode_message(raw: bytes, workspace: str, received_at: dt.datetime, call: Call) -> list[Item]:
    """Decode one stored message again (quarantine replay); a batch's names its own type."""
    single: EventType | None = None if call == "batch" else call
    return [_item(msgspec.Raw(raw), None, workspace, received_at, single)]


def _item(
    raw: msgspec.Raw,
    envelope: Envelope | None,
    workspace: str,
    received_at: dt.datetime,
    call: EventType | None,
) -> Item:
    message, problem = decode_element(raw, Message)
    if message is None:
        item = Item(raw=bytes(raw))
        assert problem is not None
        item.reject(problem)
        return item
    if envelope is not None:
        message.context = _under(envelope.context, message.context)
        message.integrations = _under(envelope.integrations, message.integrations)
        if message.sent_at is None:
            message.sent_at = envelope.sent_at
    type_, problem = _type_of(message, call)
    if problem is None and message.user_id in (None, "") and message.anonymous_id in (None, ""):
        problem = Problem(
            "missing_field",
            "userId",
            "`userId` or `anonymousId` is required: say which user (or visitor) did this.",
        )
    if problem is None and type_ == "alias" and message.previous_id in (None, ""):
        problem = Problem(
            "missing_field", "previousId", "`previousId` is required for an alias call."
        )
    if problem is not None:
        item = Item(raw=_quarantine_raw(raw, envelope))
        item.reject(problem)
        return item
    item = build_event(to_fields(message, type_), bytes(raw), workspace, received_at, SOURCE)
    if item.event is None and envelope is not None:
        item.raw = _quarantine_raw(raw, envelope)
    return item


def _type_of(message: Message, call: EventType | None) -> tuple[EventType, Problem | None]:
    """The message's type: the endpoint's, or (in a batch) its own `type` field."""
    if call is not None:
        return call, None
    if message.type in _TYPES:
        return cast(EventType, message.type), None
    if message.type is None:
        return "track", Problem(
            "missing_field",
            "type",
            "`type` is required in a batch: one of " + ", ".join(_TYPES) + ".",
        )
    return "track", Problem(
        "invalid_type",
        "type",
        f"`type` must be one of {', '.join(_TYPES)}, not {str(message.type)[:64]!r}.",
    )


def to_fields(message: Message, type_: EventType) -> Fields:
    """Map Segment's names onto the format-neutral fields."""
    payload: Any = message.properties
    payload_field = "properties"
    name: Any = message.event
    name_field = "event"
    user_id, user_field = message.user_id, "userId"
    anonymous_id, anonymous_field = message.anonymous_id, "anonymousId"
    if type_ == "group":
        payload, payload_field = message.traits, "traits"
    elif type_ == "identify":
        payload, payload_field = identify_traits(message.traits, message.context)
    elif type_ in ("page", "screen"):
        name, name_field = message.name, "name"
        if message.category is not None and (payload is None or isinstance(payload, dict)):
            payload = {"category": message.category, **(payload or {})}
    elif type_ == "alias":
        # The previous id is the one being merged into userId; keep it findable both ways.
        anonymous_id, anonymous_field = message.previous_id, "previousId"
        payload = {"previous_id": message.previous_id}
    context = message.context
    if message.integrations is not None and (context is None or isinstance(context, dict)):
        context = {**(context or {}), "integrations": message.integrations}
    timestamp, timestamp_field = message.timestamp, "timestamp"
    if timestamp is None and message.original_timestamp is not None:
        timestamp, timestamp_field = message.original_timestamp, "originalTimestamp"
    group_id, group_field = message.group_id, "groupId"
    if type_ != "group":
        group_id, group_field = account(message.group_id, message.context)
    return Fields(
        type=type_,
        event_name=name,
        event_name_field=name_field,
        user_id=user_id,
        user_id_field=user_field,
        anonymous_id=anonymous_id,
        anonymous_id_field=anonymous_field,
        group_id=group_id,
        group_id_field=group_field,
        timestamp=timestamp,
        timestamp_field=timestamp_field,
        sent_at=message.sent_at,
        sent_at_field="sentAt",
        properties=payload,
        properties_field=payload_field,
        context=context,
        message_id=message.message_id,
        # A test event, which reports leave out (a batch's context.test marks all of it).
        is_test=context.get("test") if isinstance(context, dict) else False,
        needs_user=True,
    )


def account(group_id: Any, context: Any) -> tuple[Any, str]:
    """The account a call (other than group) belongs to, and the field it was read from.

    Segment's and RudderStack's libraries put it in `context.groupId`; `context.group_id` (as
    Tracklog's own format writes it) and a top-level `groupId` are read too, the top level
    first.
    """
    if group_id not in (None, ""):
        return group_id, "groupId"
    if isinstance(context, dict):
        for name in ("groupId", "group_id"):
            if context.get(name) not in (None, ""):
                return context[name], f"context.{name}"
    return None, "context.groupId"


def identify_traits(traits: Any, context: Any) -> tuple[Any, str]:
    """An identify's traits: its own, or `context.traits` when it has none.

    RudderStack's Python SDK sends identify traits only in `context.traits`.
    """
    fallback = context.get("traits") if isinstance(context, dict) else None
    if traits in (None, {}) and isinstance(fallback, dict):
        return fallback, "context.traits"
    return traits, "traits"


def _under(default: Any, own: Any) -> Any:
    """A batch-level object laid under a message's own (whose keys win)."""
    if not isinstance(default, dict) or not default:
        return own
    if own is None:
        return default
    if not isinstance(own, dict):
        return own  # let the message's own wrong type be reported
    return {**default, **own}


def _without_write_key(raw: bytes) -> bytes:
    """The message without its `writeKey`, so no key is kept in quarantine."""
    doc = msgspec.json.decode(raw)
    if isinstance(doc, dict):
        doc.pop("writeKey", None)
        return msgspec.json.encode(doc)
    return raw


def _quarantine_raw(raw: msgspec.Raw, envelope: Envelope | None) -> bytes:
    """A rejected batch message as replay will need it: with the batch's context merged in."""
    if envelope is None or (not envelope.context and not envelope.integrations):
        return bytes(raw)
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return bytes(raw)
    if not isinstance(doc, dict):
        return bytes(raw)
    for name in ("context", "integrations"):
        merged = _under(getattr(envelope, name), doc.get(name))
        if merged is not None:
            doc[name] = merged
    return msgspec.json.encode(doc)


def source(call: Call) -> str:
    """The quarantine source name, which tells a replay how to decode the raw element again."""
    return f"{SOURCE}.{call}"
