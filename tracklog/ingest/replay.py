"""Replaying the quarantine: rejected elements run through the pipeline again.

After the tracking plan or the data was fixed, quarantined elements are decoded again by the
wire format that first received them (or from corrected JSON the client sends), checked and
committed. Those now accepted (or found already stored) leave the quarantine; those still
rejected stay, and the answer says why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec

from tracklog.events import Problem
from tracklog.ingest.pipeline import TEST_KEY, Ingestor
from tracklog.ingest.wire import REPLAYERS
from tracklog.ingest.wire.common import BodyError, Item
from tracklog.store import quarantine


class ReplayItem(msgspec.Struct):
    """A quarantined event to replay, optionally with corrected JSON in place of the raw."""

    id: str
    raw: Any = msgspec.UNSET


class ReplayRequest(msgspec.Struct):
    """POST /api/quarantine/replay body: some items, or all of the workspace's quarantine."""

    items: list[ReplayItem] = []
    all: bool = False


async def replay(
    ingestor: Ingestor,
    workspace: str,
    wanted: ReplayRequest,
    ids: list[uuid.UUID] | None,
    test: bool = False,
) -> dict[str, Any]:
    """Replay the elements `ids` names (all waiting ones if None); see the module docstring.

    With `test` (a test key asks) every replayed event is a test event; an element that a
    test key sent first is one whatever key replays it.
    """
    store = ingestor.committer.store
    corrected: dict[uuid.UUID, bytes] = {}
    if ids is not None:
        for qid, item in zip(ids, wanted.items, strict=True):
            if item.raw is not msgspec.UNSET:
                corrected[qid] = msgspec.json.encode(item.raw)
    held = await asyncio.to_thread(quarantine.waiting, store, workspace, ids)
    # Decoded as of its first arrival: a missing timestamp means then, and a `sent_at`
    # clock-skew correction measures against then, not against the time of the replay.
    items = [
        decode_for_replay(h.source, corrected.get(h.id, h.raw.encode()), workspace, h.received_at)
        for h in held
    ]
    receipt = await ingestor.ingest(items, workspace, "replay", quarantine=False, test=test)
    results = list(zip(held, receipt.results, strict=True))
    done = [h.id for h, result in results if result.status != "rejected"]
    await asyncio.to_thread(store.mark_replayed, workspace, done)
    return {
        "replayed": len(done),
        "still_rejected": len(held) - len(done),
        "results": [
            {"quarantine_id": str(h.id), **msgspec.to_builtins(result)} for h, result in results
        ],
    }


def decode_for_replay(source: str, raw: bytes, workspace: str, received_at: dt.datetime) -> Item:
    """The item of one stored raw element, decoded by the wire format that first received it.

    Always one item: what cannot be decoded comes back rejected, with the reason.
    """
    source, _, marks = source.partition("+")
    decoder = REPLAYERS.get(source)
    try:
        if decoder is None:
            raise BodyError("unknown_source", f"No decoder for quarantined source {source!r}.")
        # The element's own item comes first (a Vero event may bring an identify after it).
        decoded = decoder(raw, workspace, received_at)
    except BodyError as exc:
        decoded = [Item(raw=raw)]
        decoded[0].reject(Problem(exc.code, "raw", exc.message))
    if not decoded:  # the element was an empty array: nothing in it can be an event
        decoded = [Item(raw=raw)]
        decoded[0].reject(
            Problem("invalid_event", "", "Each event must be a JSON object, not an array.")
        )
    event = decoded[0].event
    if event is not None and f"+{marks}" == TEST_KEY:
        event.is_test = True
    return decoded[0]
