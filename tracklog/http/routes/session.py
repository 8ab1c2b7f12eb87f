"""The dashboard's sign-in shared by its tabs: open, describe and end a session.

POST exchanges a read (or admin) key, sent once in a JSON body, for an HttpOnly,
SameSite=Strict cookie naming a server-side session (tracklog/http/sessions.py); every
read endpoint then takes the cookie instead of a key. It must be a JSON body, which a page
of another site cannot post without the CORS approval this server never gives those paths,
and a browser's request marked as coming from another site is refused.
"""

from __future__ import annotations

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracklog.events import iso
from tracklog.http import sessions
from tracklog.http.auth import AuthError, authorize, lifetime, presented_key, session_of
from tracklog.http.body import read_body
from tracklog.http.openapi import READ, Answer, Operation, errors
from tracklog.http.responses import error, json_response
from tracklog.http.schemas.session import SessionInfo, SignIn
from tracklog.store.base import Store

# A key and its JSON wrapping: anything longer is not a sign-in.
MAX_BODY = 4096
_sign_in = msgspec.json.Decoder(SignIn)


def _cookie(request: Request, value: str, clear: bool = False) -> str:
    """The Set-Cookie value: HttpOnly, SameSite=Strict, the whole site; Secure over https."""
    parts = [f"{sessions.COOKIE}={value}", "HttpOnly", "SameSite=Strict", "Path=/"]
    if clear:
        parts.append("Max-Age=0")
    if request.url.scheme == "https":
        parts.append("Secure")
    return "; ".join(parts)


def _cross_site(request: Request) -> Response | None:
    """A 403 for a browser request another site's page made (Sec-Fetch-Site says so)."""
    if request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
        return None
    return error(403, "cross_site", "A sign-in must come from this server's own pages.")


async def sign_in(request: Request) -> Response:
    """POST /api/session: a read key for a session cookie; 204."""
    refused = _cross_site(request)
    if refused is not None:
        return refused
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return error(
            400,
            "invalid_content_type",
            'Send the key as JSON ({"key": "<read key>"}) with Content-Type: application/json.',
        )
    body = await read_body(request, MAX_BODY, request.app.state.runtime.settings.body_timeout)
    try:
        key = _sign_in.decode(body).key
    except msgspec.ValidationError:
        return error(400, "invalid_body", 'The body must be {"key": "<read key>"}.', "key")
    except msgspec.DecodeError:
        return error(400, "invalid_json", 'The body is not JSON: send {"key": "<read key>"}.')
    principal = await authorize(request, "read", key)
    record = request.app.state.keyring.live(principal.key_id)
    if record is None:  # revoked between the check and now
        raise AuthError(401, "invalid_key", "The API key is not valid or has been revoked.")
    store: Store = request.app.state.store
    previous = request.cookies.get(sessions.COOKIE)
    if previous:  # the sign-in it replaces ends (another key, or the same one again)
        await run_in_threadpool(sessions.end, store, previous)
    session_id = await run_in_threadpool(sessions.open_session, store, record, lifetime(request))
    return Response(status_code=204, headers={"Set-Cookie": _cookie(request, session_id)})


async def describe(request: Request) -> Response:
    """GET /api/session: whom the cookie (or key) reads as, and until when."""
    if presented_key(request) is None and sessions.COOKIE in request.cookies:
        session = await session_of(request)
        if session is None:
            raise AuthError(
                401, "session_ended", "The session has ended or expired; sign in again."
            )
        ends = lifetime(request).ends(session)
        return json_response(_info(session.workspace, session.scope, iso(ends)))
    principal = await authorize(request, "read")
    return json_response(_info(principal.workspace, principal.scope, None))


def _info(workspace: str, scope: str, expires_at: str | None) -> SessionInfo:
    found = {"workspace": workspace, "scope": scope, "expires_at": expires_at}
    return msgspec.convert(found, SessionInfo)


async def sign_out(request: Request) -> Response:
    """DELETE /api/session: the session ends everywhere and the cookie is cleared; 204."""
    session_id = request.cookies.get(sessions.COOKIE)
    if session_id:
        await run_in_threadpool(sessions.end, request.app.state.store, session_id)
    return Response(status_code=204, headers={"Set-Cookie": _cookie(request, "", clear=True)})


operations = (
    Operation(
        "POST",
        "/api/session",
        sign_in,
        "Sign in the dashboard: a read (or admin) key, sent in the body, for a session cookie "
        "(HttpOnly, SameSite=Strict) that every read endpoint takes instead of a key.",
        {
            204: Answer("signed in: the Set-Cookie header holds the session", None),
            **errors(400, 401, 403, 408, 413, 503),
        },
        body=SignIn,
        security=(),
    ),
    Operation(
        "GET",
        "/api/session",
        describe,
        "Whom the session cookie (or a key) reads as, and when the session expires.",
        {200: Answer("the session", SessionInfo), **errors(401, 403, 503)},
        security=READ,
    ),
    Operation(
        "DELETE",
        "/api/session",
        sign_out,
        "Sign out: the session ends on every node and the cookie is cleared.",
        {204: Answer("signed out (or was not signed in)", None), **errors(503)},
        security=(),
    ),
)
routes = [op.route() for op in operations]
