"""The write path every wire format shares: body → items → plan → commit → receipt.

A wire format's endpoint reads the body with `read_body`, decodes it into Items with its own
module, and hands them to `Ingestor.ingest`, which applies the workspace's tracking plan,
quarantines what is rejected, waits for the group commit and returns the receipt.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import Callable

import msgspec
from starlette.requests import ClientDisconnect, Request

from tracklog import plan as tracking_plan
from tracklog import suppression
from tracklog.committer import Committer
from tracklog.events import Event, Problem, Rejected, utcnow
from tracklog.wire.common import BodyError, Item

# Gzip can expand a thousandfold: decompression stops at the batch limit, so a small "bomb"
# costs no more memory than an honest full batch.
_GZIP = zlib.MAX_WBITS | 16


class Result(msgspec.Struct, omit_defaults=True):
    """What happened to one element of a batch."""

    index: int
    status: str
    warnings: list[Problem]
    id: str | None = None
    code: str | None = None
    field: str | None = None
    message: str | None = None


class Receipt(msgspec.Struct):
    """The answer to an ingest request, sent only after the accepted events are on disk."""

    results: list[Result]
    accepted: int
    duplicates: int
    rejected: int

    @property
    def status_code(self) -> int:
        """200 when nothing was rejected, else 400 (the accepted ones stay stored)."""
        return 400 if self.rejected else 200


async def read_body(request: Request, limit: int, timeout: float = 30.0) -> bytes:
    """The request body, decompressed, refused past `limit` bytes or `timeout` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyError("body_too_large", _too_large(limit), 413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyError("body_too_large", _too_large(limit), 413)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyError(
            "body_timeout", f"The request body did not arrive within {timeout:g} seconds.", 408
        ) from None
    except ClientDisconnect:
        raise BodyError("client_disconnected", "The client went away mid-body.", 400) from None
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise BodyError(
            "unsupported_encoding",
            f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding.",
            415,
        )
    inflater = zlib.decompressobj(_GZIP if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise BodyError(
            "invalid_encoding", f"The body is not valid {encoding} data.", 400
        ) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise BodyError("body_too_large", _too_large(limit, " after decompression"), 413)
    if not inflater.eof:
        raise BodyError("invalid_encoding", f"The {encoding} body is truncated.", 400)
    return out


def _too_large(limit: int, measured: str = "") -> str:
    return (
        f"The request body is over the batch limit of {limit} bytes{measured}; "
        "send smaller batches."
    )


class Ingestor:
    """Applies plans and commits items for every wire format."""

    def __init__(
        self,
        committer: Committer,
        plan: tracking_plan.Plan,
        plan_mode: Callable[[str], str],
        suppressed: Callable[[str], frozenset[str]] = lambda workspace: frozenset(),
    ) -> None:
        self.committer = committer
        self.plan = plan
        self.plan_mode = plan_mode
        self.suppressed = suppressed
        # Refused elements of suppressed users: counted, never stored (see suppression.py).
        self.suppressed_count = 0

    async def ingest(
        self, items: list[Item], workspace: str, source: str, quarantine: bool = True
    ) -> Receipt:
        """Check `items` against the plan, store them durably, and say what became of each.

        Rejected items are quarantined unless `quarantine` is false (a replay of items that
        are in quarantine already), or they belong to a suppressed user.
        """
        mode = self.plan_mode(workspace)
        blocked = self.suppressed(workspace)
        received_at = utcnow()
        events: list[Event] = []
        rejected: list[Rejected] = []
        for item in items:
            if blocked and self._suppress(item, blocked):
                continue
            if item.event is not None and mode != "off":
                problems = tracking_plan.check(self.plan, item.event)
                if mode == "enforce" and problems:
                    for problem in problems:
                        item.reject(problem)
                else:
                    item.warnings.extend(problems)
            if item.event is not None:
                events.append(item.event)
            elif quarantine:
                rejected.append(item.quarantined(workspace, received_at, source))
        duplicates = await self.committer.submit(events, rejected) if items else set()
        return receipt(items, duplicates)

    def _suppress(self, item: Item, blocked: frozenset[str]) -> bool:
        """Refuse `item` if it is a suppressed user's (a rejected one: if its JSON names them)."""
        if item.event is not None:
            user_id = item.event.user_id if item.event.user_id in blocked else None
        else:
            user_id = suppression.mentions(item.raw, blocked)
        if user_id is None:
            return False
        item.event = None
        item.problems.insert(0, suppression.problem(user_id))
        self.suppressed_count += 1
        return True


def receipt(items: list[Item], duplicates: set[uuid.UUID]) -> Receipt:
    """The per-index receipt; within a batch a repeated id counts as a duplicate of the first."""
    results: list[Result] = []
    seen: set[uuid.UUID] = set()
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for index, item in enumerate(items):
        event = item.event
        if event is None:
            first = item.problems[0]
            result = Result(
                index, "rejected", item.warnings, None, first.code, first.field, first.message
            )
        elif event.id in seen or event.id in duplicates:
            result = Result(index, "duplicate", item.warnings, str(event.id))
        else:
            seen.add(event.id)
            result = Result(index, "accepted", item.warnings, str(event.id))
        counts[result.status] += 1
        results.append(result)
    return Receipt(results, counts["accepted"], counts["duplicate"], counts["rejected"])
