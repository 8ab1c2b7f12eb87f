"""Fixtures of the dashboard's browser tests: a product manager's workspace, one Chromium per
module, and a signed-in tab per test (tests/dashboard/support.py has the helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.support import Tab, chromium, pm_workspace, signed_in_tab
from tests.support import ServerProcess, Tenant


@pytest.fixture(scope="module")
def pm(server: ServerProcess) -> Tenant:
    """The workspace a product manager looks at (support.py `pm_workspace`)."""
    return pm_workspace(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system, not a Playwright download."""
    with chromium() as b:
        yield b


@pytest.fixture
def tab(browser: Any, pm: Tenant) -> Iterator[Tab]:
    """A signed-in tab on the product manager's workspace."""
    with signed_in_tab(browser, pm) as t:
        yield t
