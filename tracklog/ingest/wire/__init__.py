"""Wire formats: each module turns its dialect's body into canonical events (Items).

`REPLAYERS` maps the source name a quarantined element was stored under to the decoder that
reads that one element again, so a replay uses the format that first received it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from tracklog.ingest.wire import native, segment, vero
from tracklog.ingest.wire.common import Item, Names

Replayer = Callable[[bytes, str, dt.datetime], list[Item]]

REPLAYERS: dict[str, Replayer] = {
    native.source("track"): lambda raw, ws, now: native.decode(raw, ws, now, "track"),
    native.source("identify"): lambda raw, ws, now: native.decode(raw, ws, now, "identify"),
    native.source("group"): lambda raw, ws, now: native.decode(raw, ws, now, "group"),
}
# Vero and Segment: one source per endpoint, since a single call's raw JSON does not say its type.
REPLAYERS.update(
    {vero.source(kind): functools.partial(vero.decode_raw, kind=kind) for kind in vero.KINDS}
)
REPLAYERS.update(
    {segment.source(c): functools.partial(segment.decode_message, call=c) for c in segment.CALLS}
)

# How each format names the fields a warning is about, by the source its events are stored with.
NAMES: dict[str, Names] = {native.SOURCE: native.NAMES, vero.SOURCE: vero.NAMES}
NAMES[segment.SOURCE] = segment.NAMES
