// The JSON API with the operator's key. The key lives in sessionStorage: it goes when the tab does.
const KEY = 'madoguchi.key';

export class ApiError extends Error {
  constructor(status, message, missingRoute) {
    super(message);
    this.status = status;
    /** The desk answered 404 for the route itself: this API does not exist (yet) on this desk. */
    this.missingRoute = missingRoute;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** @type {(err: ApiError) => void} */
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

/**
 * @param {string} method
 * @param {string} path
 * @param {{ query?: Record<string, unknown>, body?: unknown, key?: string | null, raw?: boolean }} [opts]
 */
async function request(method, path, { query, body, key = session.key(), raw = false } = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v == null || v === '') continue;
    for (const x of [v].flat()) q.append(k, String(x));
  }
  const url = `${path}${q.size ? `?${q}` : ''}`;
  const headers = { accept: raw ? '*/*' : 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  if (res.ok) return raw ? res : res.status === 204 ? null : res.json();
  let doc = {};
  try { doc = await res.json(); } catch { /* not JSON: the status says enough */ }
  const missing = res.status === 404 && typeof doc.message === 'string' && /^Route \w+:/.test(doc.message);
  const err = new ApiError(res.status, doc.error && doc.error !== 'Not Found' ? doc.error : (doc.message ?? res.statusText), missing);
  if (res.status === 401 && key === session.key()) onUnauthorized(err);
  throw err;
}

export const api = {
  get: (path, query, opts) => request('GET', path, { query, ...opts }),
  post: (path, body, query) => request('POST', path, { body, query }),
  patch: (path, body) => request('PATCH', path, { body }),
  raw: (path, query) => request('GET', path, { query, raw: true }),
};

/** Counts items of a list endpoint up to a cap (the API has no count endpoints): [n, capped]. */
export async function countUpTo(path, query, listKey, cap, filter = () => true) {
  const doc = await api.get(path, { ...query, limit: cap });
  const items = doc[listKey] ?? [];
  return [items.filter(filter).length, items.length >= cap];
}
