"""The Track API's own format, in every variant the seeds show.

`event_name` or `event` (seed 001); `group_id` in `context` or at the top level (seed 001);
an array of events or a single object. `test: true` (at the top level or in `context`) marks a
test event, which reports leave out.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from tracklog.events import Event, EventType
from tracklog.ingest.dedupe import event_id
from tracklog.ingest.timestamps import (
    EARLIEST_PLAUSIBLE,
    FUTURE_TOLERANCE,
    TimestampError,
    parse_timestamp,
)
from tracklog.ingest.wire.common import (
    MAX_EVENT_BYTES,
    MAX_ID_CHARS,
    Fields,
    Item,
    Names,
    build_event,
    decode_element,
    split_body,
)

SOURCE = "native"
NAMES = Names()


class NativeMessage(msgspec.Struct):
    """One message of the Track, Identify or Group API, loosely typed so checks can explain."""

    event_name: Any = None
    event: Any = None
    user_id: Any = None
    anonymous_id: Any = None
    group_id: Any = None
    properties: Any = None
    traits: Any = None
    timestamp: Any = None
    sent_at: Any = None
    context: Any = None
    message_id: Any = None
    test: Any = None


# An id or a name as nearly every client sends it: a string of 1 to 255 characters.
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS)]


class TypicalMessage(msgspec.Struct):
    """A Track API message in the shape nearly every client sends, typed so that one msgspec
    call checks a whole body in C; a body that does not fit takes the general path."""

    event_name: Text | None = None
    event: Text | None = None
    user_id: Text | None = None
    anonymous_id: Text | None = None
    group_id: Text | None = None
    properties: dict[str, Any] | None = None
    timestamp: str | None = None
    sent_at: str | None = None
    # Kept as the client's JSON (stored as sent); only the two keys below are read from it.
    context: msgspec.Raw = msgspec.Raw(b"null")
    message_id: Text | None = None
    test: bool | None = None


class ContextKeys(msgspec.Struct):
    """What the Track API reads inside `context`."""

    group_id: Any = None
    test: Any = None


_typical_batch = msgspec.json.Decoder(list[TypicalMessage])
_typical_one = msgspec.json.Decoder(TypicalMessage)
_context_keys = msgspec.json.Decoder(ContextKeys)
_NULL = msgspec.Raw(b"null")


def decode(
    body: bytes, workspace: str, received_at: dt.datetime, type_: EventType = "track"
) -> list[Item]:
    """Decode a Track/Identify/Group API body into one Item per element."""
    elements, single = split_body(body)
    if type_ == "track":
        typical = _decode_typical(body, single)
        if typical is not None and len(typical) == len(elements):
            return [
                _typical_item(msg, raw, workspace, received_at)
                or _item(raw, workspace, received_at, type_)
                for msg, raw in zip(typical, elements, strict=True)
            ]
    return [_item(raw, workspace, received_at, type_) for raw in elements]


def _decode_typical(body: bytes, single: bool) -> list[TypicalMessage] | None:
    """The whole body decoded in one call, or None when any element is not typical."""
    try:
        if single:
            return [_typical_one.decode(body)]
        return _typical_batch.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return None  # msgspec.ValidationError is a DecodeError


def _item(raw: msgspec.Raw, workspace: str, received_at: dt.datetime, type_: EventType) -> Item:
    """The general path for one element: loosely typed, so every check can explain itself."""
    msg, problem = decode_element(raw, NativeMessage)
    if msg is None:
        item = Item(raw=bytes(raw))
        assert problem is not None
        item.reject(problem)
        return item
    return build_event(to_fields(msg, type_), bytes(raw), workspace, received_at, SOURCE)


def _typical_item(
    msg: TypicalMessage, raw: msgspec.Raw, workspace: str, received_at: dt.datetime
) -> Item | None:
    """The event of a typical track message that passes every check, built as `build_event`
    would build it; None for anything else (a problem, a warning to explain, an odd value),
    which the general path then decodes and explains."""
    if len(raw) > MAX_EVENT_BYTES:
        return None
    name = msg.event_name if msg.event_name is not None else msg.event
    user_id, anonymous_id = msg.user_id, msg.anonymous_id
    if name is None or (user_id is None and anonymous_id is None):
        return None
    group_id, is_test = msg.group_id, msg.test
    context: dict[str, Any] | str = {}
    if msg.context != _NULL:
        try:
            # A value msgspec skips (as it skips the Raw) is checked for JSON syntax but not
            # for UTF-8: decoding the text checks it before the stores see it.
            context = str(msg.context, "utf-8")
            keys = _context_keys.decode(msg.context)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None  # not an object, or not text: the general path explains
        if group_id is None:
            group_id = keys.group_id
            if group_id is not None and (
                type(group_id) is not str or not 0 < len(group_id) <= MAX_ID_CHARS
            ):
                return None
        if is_test is None:
            is_test = keys.test
            if is_test is not None and type(is_test) is not bool:
                return None
    original = sent_at = None
    effective = received_at
    if msg.timestamp is not None:
        try:
            original = effective = parse_timestamp(msg.timestamp, "timestamp")
            if msg.sent_at is not None:
                # The client's clock is off by (sent_at - received_at): see build_event.
                sent_at = parse_timestamp(msg.sent_at, "sent_at")
                effective = original + (received_at - sent_at)
        except (TimestampError, OverflowError):
            return None
        if not EARLIEST_PLAUSIBLE <= original <= received_at + FUTURE_TOLERANCE:
            return None  # a plausibility warning to give
    elif msg.sent_at is not None:
        return None
    properties = msg.properties if msg.properties is not None else {}
    event = Event(
        id=event_id(
            workspace,
            "track",
            name,
            user_id,
            anonymous_id,
            group_id,
            original,
            properties,
            msg.message_id,
        ),
        workspace=workspace,
        event_name=name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        group_id=group_id,
        timestamp=effective,
        original_timestamp=original,
        sent_at=sent_at,
        received_at=received_at,
        properties=properties,
        context=context,
        message_id=msg.message_id,
        source=SOURCE,
        is_test=bool(is_test),
    )
    return Item(raw=bytes(raw), event=event)


def to_fields(msg: NativeMessage, type_: EventType) -> Fields:
    """Map the native names onto the format-neutral fields."""
    context = msg.context
    group_id, group_field = msg.group_id, "group_id"
    if group_id is None and isinstance(context, dict):
        group_id, group_field = context.get("group_id"), "context.group_id"
    # A test event: `test: true` at the top level or in `context`, as in Segment's format.
    is_test, test_field = msg.test, "test"
    if is_test is None and isinstance(context, dict):
        is_test, test_field = context.get("test"), "context.test"
    named_event = msg.event_name is not None or msg.event is None
    payload, payload_field = msg.properties, "properties"
    if type_ in ("identify", "group") and msg.traits is not None:
        payload, payload_field = msg.traits, "traits"
    if type_ == "identify" and payload in (None, {}):
        # As Segment's: an identify whose traits are only in `context.traits`.
        fallback = context.get("traits") if isinstance(context, dict) else None
        if isinstance(fallback, dict):
            payload, payload_field = fallback, "context.traits"
    return Fields(
        type=type_,
        event_name=msg.event_name if named_event else msg.event,
        event_name_field="event_name" if named_event else "event",
        user_id=msg.user_id,
        anonymous_id=msg.anonymous_id,
        group_id=group_id,
        group_id_field=group_field,
        timestamp=msg.timestamp,
        sent_at=msg.sent_at,
        properties=payload,
        properties_field=payload_field,
        context=context,
        message_id=msg.message_id,
        is_test=is_test,
        is_test_field=test_field,
        # A group call names an account; the user who joined it is optional.
        needs_user=type_ != "group",
    )


def source(type_: EventType) -> str:
    """The quarantine source name, which tells a replay how to decode the raw element again."""
    return SOURCE if type_ == "track" else f"{SOURCE}.{type_}"
