"""The web dashboard: static files (no build step) served with headers that keep data inert.

The pages render user-supplied text only through textContent, and the Content-Security-Policy
below forbids inline scripts, so a stored `<script>` or `onerror=` cannot run even if a page
were to slip.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        # uPlot and the pages set element.style through the CSSOM, which CSP allows;
        # style attributes and <style> in markup stay forbidden.
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time, so a server upgrade never leaves a stale page beside a new API.
    "Cache-Control": "no-cache",
}


class DashboardFiles(StaticFiles):
    """StaticFiles that adds the dashboard's security headers to every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


# Paths the dashboard never serves: a mount at / would otherwise fully match them and turn a
# wrong method on an API route (GET /api/track) into a static 404 instead of a 405.
API_PATHS = ("/api/", "/openapi.json", "/healthz")


class DashboardMount(Mount):
    """A Mount at / that leaves the API's paths to the API's routes."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith(API_PATHS):
            return Match.NONE, {}
        return super().matches(scope)


def mount(directory: Path = STATIC) -> Mount:
    """The dashboard's route: its static files at /, index.html for /."""
    return DashboardMount("/", DashboardFiles(directory=directory, html=True), name="dashboard")
