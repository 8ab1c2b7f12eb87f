"""The tracking plan: what the standard SaaS events carry, and how strictly a workspace checks it.

Modes per workspace: `off` (no checks), `warn` (the default: store, and list what is off in
the receipt's warnings), `enforce` (reject what is off, with the same codes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import msgspec

from tracklog.events import Event, Problem
from tracklog.ingest.wire import NAMES

PlanMode = Literal["off", "warn", "enforce"]
PLAN_MODES: tuple[str, ...] = ("off", "warn", "enforce")
JsonType = Literal["string", "number", "integer", "boolean", "object", "array"]


class PropertySpec(msgspec.Struct, frozen=True):
    """A property an event may carry: its JSON type and whether it must be there."""

    type: JsonType = "string"
    required: bool = False


class EventSpec(msgspec.Struct, frozen=True):
    """What one event name carries; `requires_group` asks for an account (`group_id`)."""

    properties: dict[str, PropertySpec] = {}
    requires_group: bool = False
    description: str = ""


class Plan(msgspec.Struct, frozen=True):
    """A whole plan: specs by event name, and properties any event may carry (seed 002)."""

    events: dict[str, EventSpec] = {}
    common_properties: dict[str, PropertySpec] = {}


_S = PropertySpec("string")
BUILTIN = Plan(
    events={
        "signed_in": EventSpec(
            {"email": _S, "user_name": _S}, True, "A user signed in to the product."
        ),
        "signed_up": EventSpec(
            {"email": _S, "user_name": _S}, False, "A user created their login."
        ),
        "signed_out": EventSpec({}, False, "A user signed out."),
        "account_created": EventSpec(
            {"account_name": _S, "account_domain": _S}, True, "An account (group) was created."
        ),
        "account_added_user": EventSpec(
            {"user_email": _S, "user_role": _S}, True, "A user was added to an account."
        ),
        "invite_sent": EventSpec(
            {"invitee_email": _S, "invitee_role": _S}, True, "A user invited someone."
        ),
        "feature_used": EventSpec(
            {"feature_name": PropertySpec("string", required=True)},
            False,
            "A user used a feature of the product.",
        ),
    },
    common_properties={"email": _S, "name": _S, "first_name": _S, "last_name": _S},
)

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def load_plan(path: str | Path | None) -> Plan:
    """The built-in plan, with the specs of a JSON file (same shape as `Plan`) laid over it."""
    if path is None:
        return BUILTIN
    custom = msgspec.convert(json.loads(Path(path).read_text()), Plan)
    return Plan(
        events={**BUILTIN.events, **custom.events},
        common_properties={**BUILTIN.common_properties, **custom.common_properties},
    )


class _Compiled(msgspec.Struct, frozen=True):
    """One event name's checks, worked out once: the problems that do not depend on the
    event's values, and the JSON type of each property the plan knows for it."""

    unplanned: Problem | None
    missing_group: Problem | None
    required: tuple[tuple[str, Problem], ...]
    types: dict[str, str]
    properties: str  # how the wire format names `properties`


# (id of the plan, source, event name) -> (the plan, its checks): compiled on first use.
# Names come from clients, so the cache is bounded (and starts over when full).
_COMPILED: dict[tuple[int, str, str], tuple[Plan, _Compiled]] = {}
_COMPILED_MAX = 10_000


def _compile(plan: Plan, source: str, event_name: str) -> _Compiled:
    names = NAMES.get(source) or NAMES["native"]
    spec = plan.events.get(event_name)
    unplanned = None
    if spec is None:
        unplanned = Problem(
            "unplanned_event",
            names.event_name,
            f"`{event_name}` is not in the tracking plan; add a spec for it "
            "or check the name for typos.",
        )
        spec = EventSpec()
    missing_group = None
    if spec.requires_group:
        missing_group = Problem(
            "missing_group",
            names.account,
            f"`{event_name}` should say which account it belongs to{names.account_hint}.",
        )
    required = tuple(
        (
            name,
            Problem(
                "missing_property",
                f"{names.properties}.{name}",
                f"`{event_name}` needs the property `{name}` ({prop.type}) in "
                f"`{names.properties}`.",
            ),
        )
        for name, prop in spec.properties.items()
        if prop.required
    )
    merged = {**plan.common_properties, **spec.properties}
    types: dict[str, str] = {name: p.type for name, p in merged.items()}
    return _Compiled(unplanned, missing_group, required, types, names.properties)


def check(plan: Plan, event: Event) -> list[Problem]:
    """Everything about `event` that departs from `plan` (empty when it conforms).

    Problems name fields as the event's wire format does (`context.groupId` for Segment's,
    `data.…` for Vero's), so the sender can find them.
    """
    if event.type != "track" or event.event_name is None:
        return []
    key = (id(plan), event.source, event.event_name)
    found = _COMPILED.get(key)
    if found is None or found[0] is not plan:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        found = _COMPILED[key] = (plan, _compile(plan, event.source, event.event_name))
    compiled = found[1]
    problems: list[Problem] = []
    if compiled.unplanned is not None:
        problems.append(compiled.unplanned)
    if compiled.missing_group is not None and not event.group_id:
        problems.append(compiled.missing_group)
    props = event.properties
    for name, problem in compiled.required:
        if name not in props:
            problems.append(problem)
    types = compiled.types
    if types:
        for name, value in props.items():
            json_type = types.get(name)
            if json_type is None or value is None:
                continue
            if json_type == "string" and type(value) is str:  # the usual case, first
                continue
            if _is_type(value, json_type):
                continue
            field = f"{compiled.properties}.{name}"
            problems.append(
                Problem(
                    "wrong_property_type",
                    field,
                    f"`{field}` should be of type {json_type}, got {type(value).__name__}.",
                )
            )
    return problems


def _is_type(value: Any, json_type: str) -> bool:
    if isinstance(value, bool) and json_type in ("number", "integer"):
        return False
    return isinstance(value, _TYPES[json_type])
