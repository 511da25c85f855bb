import { expect } from 'vitest';
import type { DbKind } from '../support/databases.js';
import { basic, call, type Reply } from '../support/http.js';
import { addUser, startTestServer, type TestServer } from '../support/server.js';

/** Who calls: a user name and password (HTTP Basic), a Bearer token, or nobody. */
export type Credentials = { user: string; password: string } | { bearer: string } | undefined;

export interface ApiServer {
  s: TestServer;
  /** Calls /api/v1<path> on the portal listener with JSON in and out. */
  rest(method: string, path: string, opts?: { as?: Credentials; body?: unknown; headers?: Record<string, string> }): Promise<Reply>;
  close(): Promise<void>;
}

/** The users every API test file starts with (created through the service, as the CLI's admin). */
export const ROOT = { user: 'root', password: 'root-password' };
export const PUB = { user: 'pub', password: 'publisher-pw' };
export const PUB2 = { user: 'pub2', password: 'publisher2-pw' };
export const ALICE = { user: 'alice', password: 'alice-password' };
export const BOB = { user: 'bob', password: 'bob-password' };

function authorization(as: Credentials): Record<string, string> {
  if (as === undefined) return {};
  if ('bearer' in as) return { authorization: `Bearer ${as.bearer}` };
  return { authorization: basic(as.user, as.password) };
}

/** One real node on free ports with an admin, two publishers and two subscribers. */
export async function startApiServer(kind: DbKind = 'sqlite', overrides: Record<string, unknown> = {}): Promise<ApiServer> {
  const s = await startTestServer(kind, overrides);
  await addUser(s, ROOT.user, ROOT.password, 'admin');
  await addUser(s, PUB.user, PUB.password, 'publisher');
  await addUser(s, PUB2.user, PUB2.password, 'publisher');
  await addUser(s, ALICE.user, ALICE.password, 'subscriber');
  await addUser(s, BOB.user, BOB.password, 'subscriber');
  return {
    s,
    rest: (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...authorization(opts.as), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
      return call(`${s.portal}/api/v1${path}`, { method, headers, ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}) });
    },
    close: () => s.close(),
  };
}

/** A success: the status, and the JSON body. */
export function ok(r: Reply, status = 200): any {
  expect(r.status, r.text).toBe(status);
  return r.json;
}

/**
 * An RFC 9457 problem as the client sees it: the status, application/problem+json, the
 * type/title/status/detail members (and the field of a validation error).
 */
export function expectProblem(r: Reply, status: number, detail: string | RegExp, field?: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  const kinds: Record<number, [string, string]> = {
    400: ['invalid', 'Invalid request'],
    401: ['unauthenticated', 'Authentication required'],
    403: ['forbidden', 'Forbidden'],
    404: ['not-found', 'Not found'],
    405: ['invalid', 'Invalid request'],
    409: ['conflict', 'Conflict'],
    413: ['too-large', 'Request too large'],
    414: ['invalid', 'Invalid request'],
    415: ['invalid', 'Invalid request'],
    429: ['rate-limited', 'Too many requests'],
  };
  const [kind, title] = kinds[status] ?? ['?', '?'];
  expect(r.json).toMatchObject({ type: `urn:gatehouse:problem:${kind}`, title, status });
  if (typeof detail === 'string') expect(r.json.detail).toBe(detail);
  else expect(r.json.detail).toMatch(detail);
  if (field !== undefined) expect(r.json.field).toBe(field);
}

/** The 401 every operation gives without credentials, with both challenges. */
export function expectUnauthenticated(r: Reply, detail: string | RegExp = /^Send credentials/): void {
  expectProblem(r, 401, detail);
  expect(String(r.headers['www-authenticate'])).toMatch(/Basic realm="gatehouse"/);
}
