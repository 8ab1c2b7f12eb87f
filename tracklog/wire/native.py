"""The Track API's own format, in every variant the seeds show.

`event_name` or `event` (seed 001); `group_id` in `context` or at the top level (seed 001);
an array of events or a single object.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from tracklog.events import EventType
from tracklog.wire.common import Fields, Item, build_event, decode_element, split_body

SOURCE = "native"


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


def decode(
    body: bytes, workspace: str, received_at: dt.datetime, type_: EventType = "track"
) -> list[Item]:
    """Decode a Track/Identify/Group API body into one Item per element."""
    elements, _single = split_body(body)
    items: list[Item] = []
    for raw in elements:
        msg, problem = decode_element(raw, NativeMessage)
        if msg is None:
            item = Item(raw=bytes(raw))
            assert problem is not None
            item.reject(problem)
            items.append(item)
            continue
        items.append(build_event(to_fields(msg, type_), bytes(raw), workspace, received_at, SOURCE))
    return items


def to_fields(msg: NativeMessage, type_: EventType) -> Fields:
    """Map the native names onto the format-neutral fields."""
    context = msg.context
    group_id = msg.group_id
    if group_id is None and isinstance(context, dict):
        group_id = context.get("group_id")
    named_event = msg.event_name is not None or msg.event is None
    payload, payload_field = msg.properties, "properties"
    if type_ in ("identify", "group") and msg.traits is not None:
        payload, payload_field = msg.traits, "traits"
    return Fields(
        type=type_,
        event_name=msg.event_name if named_event else msg.event,
        event_name_field="event_name" if named_event else "event",
        user_id=msg.user_id,
        anonymous_id=msg.anonymous_id,
        group_id=group_id,
        timestamp=msg.timestamp,
        sent_at=msg.sent_at,
        properties=payload,
        properties_field=payload_field,
        context=context,
        message_id=msg.message_id,
        # A group call names an account; the user who joined it is optional.
        needs_user=type_ != "group",
    )


def source(type_: EventType) -> str:
    """The quarantine source name, which tells a replay how to decode the raw element again."""
    return SOURCE if type_ == "track" else f"{SOURCE}.{type_}"
