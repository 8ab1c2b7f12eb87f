// The dashboard's only way to the server: fetch() with the read key as a Bearer header.

const KEY = "tracklog.readKey";

export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

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

function url(path, params) {
  const u = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) u.searchParams.append(name, v);
  }
  return u;
}

/** Send the key to the server; the raw Response (for streams and the login check). */
export async function raw(path, params = {}, init = {}, key = getKey()) {
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
    clearKey();
    throw new Unauthorized("The server no longer accepts this key; enter a read key.");
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
