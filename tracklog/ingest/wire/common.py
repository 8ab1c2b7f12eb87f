"""What every wire format shares: splitting a body into elements, and building a canonical event.

A format module maps its own field names onto `Fields`; `build_event` does the checks that make
an event storable (a name, a person, a real timestamp, objects where objects belong, sizes),
so every dialect rejects bad input with the same codes and sentences.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, TypeVar

import msgspec

from tracklog.events import Event, EventType, Problem, Rejected, utcnow
from tracklog.ingest.dedupe import event_id
from tracklog.ingest.timestamps import TimestampError, parse_timestamp, plausibility_warnings
from tracklog.ingest.wire.json_errors import describe

MAX_EVENT_BYTES = 32 * 1024
MAX_NAME_CHARS = 255
MAX_ID_CHARS = 255
_OBJECT_FIELDS = ("properties", "context", "traits", "data")

T = TypeVar("T")

_PATH = re.compile(r"at `\$(?:\[\d+\])?\.?([^`]*)`")


class BodyError(Exception):
    """The request body as a whole cannot be read; nothing in it is stored."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Item(msgspec.Struct):
    """One element of a batch after decoding: an event to store, or the reasons it can't be."""

    raw: bytes
    event: Event | None = None
    problems: list[Problem] = msgspec.field(default_factory=list)
    warnings: list[Problem] = msgspec.field(default_factory=list)

    def reject(self, problem: Problem) -> None:
        """Mark this element rejected for `problem`."""
        self.event = None
        self.problems.append(problem)

    def quarantined(self, workspace: str, received_at: dt.datetime, source: str) -> Rejected:
        """The quarantine record for a rejected element."""
        return Rejected(
            id=uuid.uuid4(),
            workspace=workspace,
            received_at=received_at,
            source=source,
            raw=self.raw.decode("utf-8", "replace"),
            reasons=self.problems,
        )


class Names(msgspec.Struct, frozen=True, kw_only=True):
    """How a wire format names the fields a warning is about, so it speaks the sender's terms."""

    event_name: str = "event_name"
    properties: str = "properties"
    # Where an event names its account (the field of a missing_group problem), and how the
    # sentence "`signed_in` should say which account it belongs to…" ends.
    account: str = "context.group_id"
    account_hint: str = " in `context.group_id` (or a top-level `group_id`)"


class Fields(msgspec.Struct, kw_only=True):
    """A format-neutral view of one message, before it is checked."""

    type: EventType = "track"
    event_name: Any = None
    event_name_field: str = "event_name"
    user_id: Any = None
    user_id_field: str = "user_id"
    anonymous_id: Any = None
    anonymous_id_field: str = "anonymous_id"
    group_id: Any = None
    group_id_field: str = "group_id"
    timestamp: Any = None
    timestamp_field: str = "timestamp"
    sent_at: Any = None
    sent_at_field: str = "sent_at"
    properties: Any = None
    properties_field: str = "properties"
    context: Any = None
    message_id: Any = None
    # A test event (left out of reports): true or false; the field says where it was read.
    is_test: Any = False
    is_test_field: str = "context.test"
    needs_user: bool = True


def split_body(body: bytes) -> tuple[list[msgspec.Raw], bool]:
    """Split a JSON body into its elements' raw bytes; the flag says it was a single object."""
    stripped = body.strip()
    if not stripped:
        raise BodyError("empty_body", "The request body is empty; send a JSON array of events.")
    try:
        if stripped[:1] == b"[":
            return msgspec.json.decode(stripped, type=list[msgspec.Raw]), False
        if stripped[:1] == b"{":
            msgspec.json.decode(stripped)  # validate the whole document before accepting it
            return [msgspec.Raw(stripped)], True
        msgspec.json.decode(stripped)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise BodyError("invalid_json", not_json(body, exc)) from None
    raise BodyError(
        "invalid_body", "The request body must be a JSON array of events or a single event object."
    )


def decode_element(raw: msgspec.Raw, shape: type[T]) -> tuple[T | None, Problem | None]:
    """Decode one element into a format's struct, turning type errors into a Problem."""
    if len(raw) > MAX_EVENT_BYTES:
        return None, Problem(
            "event_too_large",
            "",
            f"The event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES} bytes (32 KB).",
        )
    try:
        return msgspec.json.decode(raw, type=shape), None
    except msgspec.ValidationError as exc:
        return None, _validation_problem(str(exc))
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        # Splitting a batch into raw elements does not check the UTF-8 inside their strings;
        # positions count from the event's own first byte.
        where, _, what = describe(bytes(raw), exc).partition(": ")
        text = f"{where} of the event: {what}" if what else where
        return None, Problem("invalid_json", "", _sentence(f"The event is not valid JSON: {text}"))


def _validation_problem(text: str) -> Problem:
    match = _PATH.search(text)
    field = match.group(1) if match else ""
    expected = text.split(" - at ")[0]
    if not field:
        if "Expected `object`" in text:
            return Problem("invalid_event", "", f"Each event must be a JSON object ({expected}).")
        return Problem("invalid_event", "", f"The event could not be read: {expected}.")
    top = field.split(".")[0].split("[")[0]
    if top in ("properties", "data", "traits", "context", "identity", "extras", "integrations"):
        code = f"invalid_{top}"
    elif top in ("timestamp", "sent_at", "sentAt", "originalTimestamp"):
        code = "invalid_timestamp"
    else:
        code = "invalid_type"
    return Problem(code, field, f"`{field}` has the wrong type: {expected}.")


def not_json(body: bytes, exc: BaseException) -> str:
    """The sentence for a request body msgspec could not decode: where, and what to fix."""
    start = len(body) - len(body.lstrip())  # positions count in the body as it was sent
    return _sentence(f"The request body is not valid JSON: {describe(body, exc, start)}")


def _sentence(text: str) -> str:
    return text if text.endswith(("?", ".")) else text + "."


def _as_id(value: Any, field: str, item: Item) -> str | None:
    """Ids may arrive as strings or integers; store them as strings."""
    if type(value) is str and 0 < len(value) <= MAX_ID_CHARS:  # the usual case, first
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        item.reject(Problem("invalid_type", field, f"`{field}` must be a string."))
        return None
    text = str(value)
    if len(text) > MAX_ID_CHARS:
        item.reject(
            Problem("id_too_long", field, f"`{field}` is {len(text)} characters; the limit is 255.")
        )
        return None
    return text


def build_event(
    fields: Fields, raw: bytes, workspace: str, received_at: dt.datetime, source: str
) -> Item:
    """Check one message's fields and build the canonical event, or the rejection reasons."""
    item = Item(raw=raw)
    name = fields.event_name
    if fields.type in ("track", "page", "screen"):
        if name is None or name == "":
            if fields.type == "track":
                item.reject(
                    Problem(
                        "missing_field",
                        fields.event_name_field,
                        f"`{fields.event_name_field}` is required: name the event, "
                        'e.g. "signed_in".',
                    )
                )
            name = None if fields.type == "track" else fields.type
        elif not isinstance(name, str):
            item.reject(
                Problem(
                    "invalid_type",
                    fields.event_name_field,
                    f"`{fields.event_name_field}` must be a string.",
                )
            )
        elif len(name) > MAX_NAME_CHARS:
            item.reject(
                Problem(
                    "name_too_long",
                    fields.event_name_field,
                    f"`{fields.event_name_field}` is {len(name)} characters; the limit is "
                    f"{MAX_NAME_CHARS}.",
                )
            )
    else:
        name = fields.type

    user_id = _as_id(fields.user_id, fields.user_id_field, item)
    anonymous_id = _as_id(fields.anonymous_id, fields.anonymous_id_field, item)
    group_id = _as_id(fields.group_id, fields.group_id_field, item)
    message_id = _as_id(fields.message_id, "message_id", item)
    if fields.needs_user and user_id is None and anonymous_id is None and not item.problems:
        item.reject(
            Problem(
                "missing_field",
                fields.user_id_field,
                f"`{fields.user_id_field}` is required: say which user did this.",
            )
        )
    if fields.type == "group" and group_id is None and not item.problems:
        item.reject(
            Problem(
                "missing_field",
                fields.group_id_field,
                f"`{fields.group_id_field}` is required for a group call.",
            )
        )

    properties = _as_object(fields.properties, fields.properties_field, item)
    context = _as_object(fields.context, "context", item)
    is_test = fields.is_test
    if not isinstance(is_test, bool):
        is_test, problem = flag(is_test, fields.is_test_field)
        if problem is not None:
            item.reject(problem)

    original: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    effective = received_at
    try:
        if fields.timestamp is not None:
            original = parse_timestamp(fields.timestamp, fields.timestamp_field)
            effective = original
        if fields.sent_at is not None:
            sent_at = parse_timestamp(fields.sent_at, fields.sent_at_field)
    except TimestampError as exc:
        late = original is not None or fields.timestamp is None
        field = fields.sent_at_field if late else fields.timestamp_field
        item.reject(Problem("invalid_timestamp", field, str(exc)))
    if item.problems:
        return item

    if sent_at is not None and original is not None:
        # The client's clock is off by (sent_at - received_at); shift its timestamp by that.
        try:
            effective = original + (received_at - sent_at)
        except OverflowError:
            item.reject(
                Problem(
                    "invalid_timestamp",
                    fields.sent_at_field,
                    f"`{fields.sent_at_field}` is so far from the time received that correcting "
                    f"`{fields.timestamp_field}` by it leaves the years 1 to 9999; "
                    "send the sender's current time.",
                )
            )
            return item
    if original is not None:
        item.warnings.extend(plausibility_warnings(original, received_at, fields.timestamp_field))

    assert isinstance(name, str | None)
    item.event = Event(
        id=event_id(
            workspace,
            fields.type,
            name,
            user_id,
            anonymous_id,
            group_id,
            original,
            properties,
            message_id,
        ),
        workspace=workspace,
        type=fields.type,
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
        message_id=message_id,
        source=source,
        is_test=is_test,
    )
    return item


def flag(value: Any, field: str) -> tuple[bool, Problem | None]:
    """A true/false field (the strings "true"/"false" too, for form-minded clients)."""
    if isinstance(value, bool):
        return value, None
    if value is None or value in ("false", "0", ""):
        return False, None
    if value in ("true", "1"):
        return True, None
    return False, Problem("invalid_type", field, f"`{field}` must be true or false.")


def _as_object(value: Any, field: str, item: Item) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        item.reject(
            Problem(
                f"invalid_{field}"
                if field in ("properties", "context", "traits")
                else "invalid_type",
                field,
                f"`{field}` must be a JSON object of names and values, not {_json_kind(value)}.",
            )
        )
        return {}
    return value


def _json_kind(value: Any) -> str:
    kinds = {
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "an array",
    }
    return kinds.get(type(value), "null" if value is None else type(value).__name__)


__all__ = [
    "BodyError",
    "Fields",
    "Item",
    "Names",
    "build_event",
    "decode_element",
    "flag",
    "not_json",
    "split_body",
    "utcnow",
]
