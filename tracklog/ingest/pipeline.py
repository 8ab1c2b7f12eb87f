"""The write path every wire format shares: body → items → plan → commit → receipt.

A wire format's endpoint reads the body (tracklog/http/body.py), decodes it into Items with its
own module, and hands them to `Ingestor.ingest`, which applies the workspace's tracking plan,
quarantines what is rejected, waits for the group commit and returns the receipt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from tracklog.events import Event, Problem, Rejected, id_text, utcnow
from tracklog.ingest import plan as tracking_plan
from tracklog.ingest import suppression
from tracklog.ingest.committer import Committer
from tracklog.ingest.wire.common import Item

# Added to the quarantine source of an element sent with a test key, so that its replay
# stores a test event too, whatever key asks for the replay.
TEST_KEY = "+test"


class Result(msgspec.Struct):
    """What happened to one element of a batch, by its index: `id` when stored (accepted or
    duplicate), `code`, `field` and `message` when rejected; warnings either way."""

    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    warnings: list[Problem]
    id: str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    field: str | UnsetType = UNSET
    message: str | UnsetType = UNSET


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
        self,
        items: list[Item],
        workspace: str,
        source: str,
        quarantine: bool = True,
        test: bool = False,
        received_at: dt.datetime | None = None,
    ) -> Receipt:
        """Check `items` against the plan, store them durably, and say what became of each.

        Rejected items are quarantined unless `quarantine` is false (a replay of items that
        are in quarantine already), or they belong to a suppressed user. With `test` (a test
        key sent them) every event is a test event. `received_at` (the time the items were
        decoded with; now if not given) is when quarantined items were received.
        """
        if test:
            source += TEST_KEY
            for item in items:
                if item.event is not None:
                    item.event.is_test = True
        mode = self.plan_mode(workspace)
        blocked = self.suppressed(workspace)
        received_at = received_at or utcnow()
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


def receipt(items: list[Item], duplicates: set[bytes]) -> Receipt:
    """The per-index receipt; within a batch a repeated id counts as a duplicate of the first."""
    results: list[Result] = []
    seen: set[bytes] = set()
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for index, item in enumerate(items):
        event = item.event
        if event is None:
            first = item.problems[0]
            result = Result(
                index, "rejected", item.warnings, UNSET, first.code, first.field, first.message
            )
        elif event.id in seen or event.id in duplicates:
            result = Result(index, "duplicate", item.warnings, id_text(event.id))
        else:
            seen.add(event.id)
            result = Result(index, "accepted", item.warnings, id_text(event.id))
        counts[result.status] += 1
        results.append(result)
    return Receipt(results, counts["accepted"], counts["duplicate"], counts["rejected"])
