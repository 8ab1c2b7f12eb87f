"""The garbage collector while the app serves (tracklog/http/app.py, issue 15): start-up's
objects frozen out of its walks, young objects collected less often; restored at shutdown."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from tracklog.http.app import YOUNG_THRESHOLD, create_app
from tracklog.http.runtime import build_runtime
from tracklog.settings import Settings


def test_the_collector_is_tuned_while_serving_and_restored_after(tmp_path: Path) -> None:
    before = gc.get_threshold()
    app = create_app(build_runtime(Settings(data_dir=str(tmp_path / "data"))))
    seen: dict[str, object] = {}

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            seen["threshold"] = gc.get_threshold()
            seen["frozen"] = gc.get_freeze_count()

    asyncio.run(serve())
    app.state.store.close()
    assert seen["threshold"] == (YOUNG_THRESHOLD, *before[1:])
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
