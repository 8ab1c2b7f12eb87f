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


class DashboardMount(Mount):
    """A Mount at / that claims only "/" and the files it has.

    Every other path falls through to the API's routes and the router's own 404 and 405: a
    mount at / that matched everything would turn `GET /api/track` (POST only) into a static
    404 instead of a 405, and an unknown API path into a non-JSON answer.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__("/", DashboardFiles(directory=directory, html=True), name="dashboard")
        # The files are fixed for the server's lifetime, so a set answers without touching disk.
        self.files = {
            "/" + p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()
        }
        self.files.add("/")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"] not in self.files:
            return Match.NONE, {}
        return super().matches(scope)


def mount(directory: Path = STATIC) -> Mount:
    """The dashboard's route: its static files, and index.html for /."""
    return DashboardMount(directory)
