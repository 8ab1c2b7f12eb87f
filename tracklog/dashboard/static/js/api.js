// The dashboard's only way to the server. Two ways to sign in:
//  - a server session (contract section 6, when /openapi.json lists /api/session): the read
//    key is exchanged once for an HttpOnly, SameSite=Strict cookie, so every tab of the
//    browser is signed in and no page script can read the key (it is never stored);
//  - otherwise the read key in this tab's sessionStorage, sent as a Bearer header.

const KEY = "tracklog.readKey";

export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

let session = false; // signed in through the session cookie

/** Whether this server keeps sessions (POST/GET/DELETE /api/session). */
export async function sessions() {
  const p = (await paths())["/api/session"];
  return Boolean(p && p.post && p.get && p.delete);
}

/** Exchange a read key for a session cookie: the Response (204 when it worked). */
export async function openSession(key) {
  const response = await fetch("/api/session", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key }),
  });
  session = response.status === 204 || response.ok;
  return response;
}

/** Whether the browser holds a live session (GET /api/session answers 200). */
export async function checkSession() {
  const response = await fetch("/api/session", { credentials: "same-origin" });
  session = response.ok;
  return session;
}

/** End the session on the server (every tab is signed out with it). */
export async function endSession() {
  session = false;
  await fetch("/api/session", { method: "DELETE", credentials: "same-origin" }).catch(() => {});
}

/** Signed in, by a session or a key in this tab. */
export const signedIn = () => session || Boolean(getKey());

/** Forget how this tab signed in (a 401 answered: the key or the session ended). */
export function forget() {
  session = false;
  clearKey();
}

/** No key, or the server no longer accepts it: the login form must come back. */
export class Unauthorized extends Error {
  constructor(message = "Enter a read key.") {
    super(message);
    this.name = "Unauthorized";
  }
}

/** An error answer of the API: {"error": {code, field, message}}. */
export class ApiError extends Error {
  constructor(status, path, body) {
    const err = (body && body.error) || {};
    super(err.message || `${path} answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.path = path;
    this.code = err.code || "http_error";
    this.field = err.field || null;
  }

  /** The endpoint itself does not exist on this server (rather than e.g. an unknown user). */
  get unavailable() {
    return this.status === 404 && !this.field && /no endpoint/i.test(this.message);
  }
}

/** The endpoint is not in this server's /openapi.json, so it was not called. */
export class Unavailable extends Error {
  constructor(path) {
    super(`This server does not offer ${path} yet.`);
    this.name = "Unavailable";
    this.path = path;
  }
}

let spec = null;

/** The server's OpenAPI paths, fetched once: pages skip endpoints the server lacks. */
export async function paths() {
  if (spec === null) {
    spec = fetch("/openapi.json").then(async (r) => (r.ok ? (await r.json()).paths || {} : {}));
  }
  return spec;
}

/** Whether the server documents `template` (an OpenAPI path such as /api/users/{user_id}). */
export async function offers(template) {
  return Object.hasOwn(await paths(), template);
}

/** Whether the server documents every one of `names` as a parameter of GET `template`. */
export async function offersParams(template, ...names) {
  const op = ((await paths())[template] || {}).get;
  const known = new Set(((op && op.parameters) || []).map((p) => p.name));
  return names.every((n) => known.has(n));
}

function url(path, params) {
  const u = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) u.searchParams.append(name, v);
  }
  return u;
}

/** Call the server with the session or the key; the raw Response (streams, login check). */
export async function raw(path, params = {}, init = {}, key = getKey()) {
  if (session) return fetch(url(path, params), { ...init, credentials: "same-origin" });
  if (!key) throw new Unauthorized();
  const headers = { Authorization: `Bearer ${key}`, ...(init.headers || {}) };
  return fetch(url(path, params), { ...init, headers });
}

/**
 * GET JSON from the API. `template` names the OpenAPI path this call belongs to; when the
 * server does not document it the call is not made and Unavailable is thrown.
 */
export async function get(path, params = {}, { template = path, signal } = {}) {
  if (!(await offers(template))) throw new Unavailable(template);
  const response = await raw(path, params, { signal });
  if (response.status === 401) {
    const was = session;
    forget();
    throw new Unauthorized(was ? "The session has ended; sign in again." : "The server no longer accepts this key; enter a read key.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, template, body);
    if (error.unavailable) throw new Unavailable(template);
    throw error;
  }
  return body;
}

/**
 * Every row of a list, following its pages: offset paging (`total`) or cursors
 * (`next_cursor`). `onProgress(rows so far)` is called after each page.
 */
export async function getAll(path, params, { template = path, rowsKey, signal, onProgress, limit = 1000 } = {}) {
  const rows = [];
  let cursor = null;
  for (;;) {
    const page = { ...params, limit };
    if (cursor) page.cursor = cursor;
    else if (rows.length) page.offset = rows.length;
    const data = await get(path, page, { template, signal });
    const got = data[rowsKey] || [];
    rows.push(...got);
    if (onProgress) onProgress(rows.length, data);
    if (data.next_cursor !== undefined) {
      cursor = data.next_cursor;
      if (!cursor) return rows;
    } else if (data.total === undefined || !got.length || rows.length >= data.total || data.offset === undefined) {
      return rows; // a list without offset paging answers in one call
    }
  }
}
