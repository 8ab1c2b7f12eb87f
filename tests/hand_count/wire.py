"""Logical events as the requests real clients send: the native Track API (as the seeds show
it), Segment's and RudderStack's Python libraries (`/v1/batch`), and Vero's calls.

Segment-protocol batches carry no `sentAt`: a clock-skew correction would move every
timestamp by the request's latency, and the hand count compares to the second.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.hand_count.dataset import Event

BATCH = 400  # messages per request: well under the 500 KB body limit
LIBRARIES = {
    "segment": {"name": "analytics-python", "version": "2.3.4"},
    "rudder": {"name": "rudder-analytics-python", "version": "2.1.4"},
}


def iso(e: Event, zulu: bool = False) -> str:
    """The event's time with its own offset (UTC as Z when `zulu`)."""
    assert e.timestamp is not None
    text = e.timestamp.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


def native(e: Event) -> tuple[str, dict[str, Any]]:
    """(path, element) for /api/track, /api/identify or /api/group."""
    body: dict[str, Any] = {"user_id": e.user_id} if e.user_id else {}
    context: dict[str, Any] = {}
    if e.anonymous_id:
        body["anonymous_id"] = e.anonymous_id
    if e.kind == "track":
        body["event" if "event" in e.shape else "event_name"] = e.name
        body["properties"] = e.properties
        if e.group_id and "group_id" in e.shape:
            body["group_id"] = e.group_id
        elif e.group_id:
            context["group_id"] = e.group_id
    elif e.kind == "group":
        body["group_id"] = e.group_id
    if e.kind in ("identify", "group") and "no_traits" not in e.shape:
        body["traits"] = e.traits
    if "context.test" in e.shape:
        context["test"] = True
    if "test" in e.shape:
        body["test"] = True
    if context:
        body["context"] = context
    if e.timestamp is not None:
        body["timestamp"] = iso(e, zulu=True)
    if e.message_id:
        body["message_id"] = e.message_id
    return f"/api/{e.kind}", body


def segment(e: Event) -> dict[str, Any]:
    """One message of a /v1/batch, as Segment's (or RudderStack's) Python library builds it."""
    context: dict[str, Any] = {"library": LIBRARIES[e.wire]}
    msg: dict[str, Any] = {"type": e.kind, "messageId": e.message_id, "integrations": {}}
    if e.wire == "rudder":
        msg["channel"] = "server"
    if e.user_id:
        msg["userId"] = e.user_id
    if e.anonymous_id:
        msg["anonymousId"] = e.anonymous_id
    if e.kind == "track":
        msg["event"], msg["properties"] = e.name, e.properties
    elif e.kind == "page":
        msg["name"], msg["properties"] = e.name, e.properties
    elif e.kind == "identify" and "context.traits" in e.shape:
        context["traits"] = e.traits  # RudderStack's Python SDK sends traits only here
    elif e.kind == "identify":
        msg["traits"] = e.traits
    elif e.kind == "group":
        msg["groupId"] = e.group_id
        msg["traits"] = {} if "no_traits" in e.shape else e.traits
    elif e.kind == "alias":
        msg["previousId"] = e.previous_id
    if e.group_id and e.kind != "group":
        if "groupId" in e.shape:
            msg["groupId"] = e.group_id
        elif "context.group_id" in e.shape:
            context["group_id"] = e.group_id
        else:
            context["groupId"] = e.group_id  # where all four Segment/RudderStack SDKs put it
    if "context.test" in e.shape:
        context["test"] = True
    msg["context"] = context
    if e.timestamp is not None:
        msg["timestamp"] = iso(e)
    return msg


def vero(e: Event) -> tuple[str, str, dict[str, Any]]:
    """(method, path, body) of one Vero call (the auth_token is added when sending)."""
    if e.kind == "alias":
        return "PUT", "/api/v2/users/reidentify", {"id": e.previous_id, "new_id": e.user_id}
    if e.kind == "identify" and "edit" in e.shape:
        return "PUT", "/api/v2/users/edit", {"id": e.user_id, "changes": e.traits}
    if e.kind == "identify":
        data = {k: v for k, v in e.traits.items() if k != "email"}
        return (
            "POST",
            "/api/v2/users/track",
            {"id": e.user_id, "email": e.traits.get("email"), "data": data},
        )
    body: dict[str, Any] = {
        "identity": {"id": e.user_id, **e.traits},
        "event_name": e.name,
        "data": e.properties,
        "extras": {"created_at": iso(e)},
    }
    if e.is_test:
        body["development_mode"] = True
    return "POST", "/api/v2/events/track", body


@dataclass
class Delivery:
    """What the server said: rejected elements, and how many resends it stored again."""

    rejected: list[str] = field(default_factory=list)
    resent: int = 0  # elements sent a second time
    stored_again: list[str] = field(default_factory=list)  # resends that were not duplicates


@dataclass
class Request:
    method: str
    path: str
    body: dict[str, Any] | list[dict[str, Any]]
    labels: list[str]  # an event per element (seq and kind), for messages
    resend: bool = False


def _chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def requests(events: list[Event], key: str) -> list[Request]:
    """Every request, first sends then resends (each resend really sent twice)."""
    first: list[Request] = []
    again: list[Request] = []
    for resend, pool in ((False, first), (True, again)):
        chosen = [e for e in events if e.resend or not resend]
        for kind in ("track", "identify", "group"):
            mine = [e for e in chosen if e.wire == "native" and e.kind == kind]
            for part in _chunks(mine):
                elements = [native(e)[1] for e in part]
                pool.append(Request("POST", f"/api/{kind}", elements, _labels(part), resend))
        for wire in ("segment", "rudder"):
            mine = [e for e in chosen if e.wire == wire]
            for part in _chunks(mine):
                batch: dict[str, Any] = {"batch": [segment(e) for e in part]}
                pool.append(Request("POST", "/v1/batch", batch, _labels(part), resend))
        for e in chosen:
            if e.wire == "vero" and e.timestamp is not None:
                method, path, body = vero(e)
                pool.append(
                    Request(method, path, {"auth_token": key, **body}, _labels([e]), resend)
                )
    untimed = []  # Vero's users/* calls: their time is when they arrive, so they go last
    for e in events:
        if e.wire == "vero" and e.timestamp is None:
            method, path, body = vero(e)
            untimed.append(Request(method, path, {"auth_token": key, **body}, _labels([e])))
    return first + again + untimed


def _labels(events: list[Event]) -> list[str]:
    return [f"event {e.seq} ({e.wire} {e.kind} {e.name or ''})" for e in events]


def send(
    base_url: str, key: str, events: list[Event], workers: int = 16
) -> tuple[Delivery, dt.datetime]:
    """Send everything; returns the delivery and the time before the untimed calls were sent."""
    basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    delivery = Delivery()
    reqs = requests(events, key)
    with httpx.Client(base_url=base_url, timeout=60) as client:

        def one(req: Request) -> None:
            auth = basic if req.path.startswith("/v1/") else f"Bearer {key}"
            if req.path.startswith("/api/v2/"):
                auth = ""
            headers = {
                "Content-Type": "application/json",
                **({"Authorization": auth} if auth else {}),
            }
            resp = client.request(
                req.method, req.path, content=json.dumps(req.body), headers=headers
            )
            data = resp.json()
            receipt = data.get("receipt", data)
            results = receipt.get("results", [])
            if resp.status_code != 200 or receipt.get("rejected"):
                delivery.rejected.append(f"{req.path} {resp.status_code}: {resp.text[:300]}")
            if req.resend:
                delivery.resent += len(req.labels)
                for label, result in zip(req.labels, results, strict=False):
                    if result.get("status") != "duplicate":
                        delivery.stored_again.append(f"{label}: {result.get('status')}")

        timed = [r for r in reqs if not r.path.startswith("/api/v2/users/")]
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, [r for r in timed if not r.resend]))
            list(pool.map(one, [r for r in timed if r.resend]))
            received = dt.datetime.now(dt.UTC)
            list(pool.map(one, [r for r in reqs if r.path.startswith("/api/v2/users/")]))
    return delivery, received
