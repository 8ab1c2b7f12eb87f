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

PlanMode = Literal["off", "warn", "enforce"]
PLAN_MODES: tuple[str, ...] = ("off", "warn", "enforce")
JsonType = Literal["string", "number", "integer", "boolean", "object", "array"]


class PropertySpec(msgspec.Struct, frozen=True):
    """A property an event may carry: its JSON type and whether it must be there."""

    type: JsonType = "string"
    required: bool = False


class EventSpec(msgspec.Struct, frozen=True):
    """What one event name carries; `requires_group` asks for `context.group_id`."""

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


def check(plan: Plan, event: Event) -> list[Problem]:
    """Everything about `event` that departs from `plan` (empty when it conforms)."""
    if event.type != "track" or event.event_name is None:
        return []
    spec = plan.events.get(event.event_name)
    problems: list[Problem] = []
    if spec is None:
        problems.append(
            Problem(
                "unplanned_event",
                "event_name",
                f"`{event.event_name}` is not in the tracking plan; add a spec for it "
                "or check the name for typos.",
            )
        )
        spec = EventSpec()
    if spec.requires_group and not event.group_id:
        problems.append(
            Problem(
                "missing_group",
                "context.group_id",
                f"`{event.event_name}` should say which account it belongs to in "
                "`context.group_id`.",
            )
        )
    props = event.properties
    for name, prop in (spec.properties | {}).items():
        if prop.required and name not in props:
            problems.append(
                Problem(
                    "missing_property",
                    f"properties.{name}",
                    f"`{event.event_name}` needs the property `{name}` ({prop.type}).",
                )
            )
    for name, value in props.items():
        prop_spec = spec.properties.get(name) or plan.common_properties.get(name)
        if prop_spec is None or value is None:
            continue
        if not _is_type(value, prop_spec.type):
            problems.append(
                Problem(
                    "wrong_property_type",
                    f"properties.{name}",
                    f"`properties.{name}` should be of type {prop_spec.type}, "
                    f"got {type(value).__name__}.",
                )
            )
    return problems


def _is_type(value: Any, json_type: str) -> bool:
    if isinstance(value, bool) and json_type in ("number", "integer"):
        return False
    return isinstance(value, _TYPES[json_type])
