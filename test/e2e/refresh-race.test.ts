import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaqueTokens } from '../../src/oauth/token-format.js';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(kinds)('refresh token rotation under concurrency on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  const auth = () => ({ authorization: basic(c.consumerKey, c.consumerSecret) });

  beforeAll(async () => {
    // Grace of 1 s: a reuse 2+ s after rotation is past it (times are whole seconds).
    s = await startTestServer(kind, { oauth: { refreshTokenReuseGrace: 1 } });
    c = await createClient(s);
  });
  afterAll(async () => s?.close());

  async function login() {
    const r = await postForm(`${s.http}/token`, { grant_type: 'password', username: 'alice', password: 'correct horse' }, auth());
    expect(r.status).toBe(200);
    return r.json as { access_token: string; refresh_token: string };
  }
  const introspect = async (token: string) => (await postForm(`${s.http}/introspect`, { token }, auth())).json;

  it('50 concurrent refreshes of one token: exactly one 200, the rest invalid_grant, winner works', async () => {
    const t = await login();
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth())),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((x) => x >= 500)).toEqual([]);
    expect(statuses.filter((x) => x === 200)).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
    }
    const winner = replies.find((r) => r.status === 200)!.json;
    // Within the grace window the losers did not revoke anything: the winner's tokens work.
    expect(await introspect(winner.access_token)).toMatchObject({ active: true });
    const next = await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: winner.refresh_token }, auth());
    expect(next.status).toBe(200);
    expect(await introspect(next.json.access_token)).toMatchObject({ active: true });
  });

  it('a consumed refresh token presented after the grace window revokes the whole grant', async () => {
    const t = await login();
    const rotated = (await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth())).json;
    expect(await introspect(rotated.access_token)).toMatchObject({ active: true });
    await sleep(2100);
    const reuse = await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth());
    expect(reuse.status).toBe(400);
    expect(reuse.json.error).toBe('invalid_grant');
    expect(reuse.json.error_description).toMatch(/revoked/);
    expect(await introspect(rotated.access_token)).toEqual({ active: false });
    expect(await introspect(t.access_token)).toEqual({ active: false });
    const successor = await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token }, auth());
    expect(successor.status).toBe(400);
    expect(successor.json.error).toBe('invalid_grant');
  });

  it('revocation racing a refresh of the same token never leaves a live pair in the revoked grant (20 rounds)', async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 20; round++) {
      const t = await login();
      const [revoke, refresh] = await Promise.all([
        postForm(`${s.http}/revoke`, { token: t.refresh_token }, auth()),
        postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth()),
      ]);
      statuses.push(revoke.status, refresh.status);
      expect(revoke.status).toBe(200);
      if (refresh.status === 200) {
        // The refresh won the race: the revocation (of its consumed token) must still end the grant.
        expect(await introspect(refresh.json.access_token)).toEqual({ active: false });
        expect(await introspect(refresh.json.refresh_token)).toEqual({ active: false });
        const again = await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: refresh.json.refresh_token }, auth());
        expect(again.status).toBe(400);
      } else {
        expect(refresh.status).toBe(400);
        expect(refresh.json.error).toBe('invalid_grant');
      }
      expect(await introspect(t.access_token)).toEqual({ active: false });
    }
    expect(statuses.filter((x) => x >= 500)).toEqual([]);
  });

  it('a grant revocation racing a refresh of its live token (as reuse detection does): nothing stays live, no 5xx', async () => {
    for (let round = 0; round < 10; round++) {
      const t = await login();
      const stored = (await s.server.store.tokens.findRefresh(opaqueTokens.key(t.refresh_token)))!;
      const at = Math.floor(Date.now() / 1000);
      const [, next] = await Promise.all([
        s.server.oauth.revocation.grant({ id: stored.grantId, consumerKey: stored.consumerKey }, at),
        postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth()),
      ]);
      expect(next.status).toBeLessThan(500);
      if (next.status === 200) {
        expect(await introspect(next.json.access_token)).toEqual({ active: false });
        expect(await introspect(next.json.refresh_token)).toEqual({ active: false });
      } else {
        expect(next.json.error).toBe('invalid_grant');
      }
      const mark = await s.server.store.db.kysely.selectFrom('grants').select('revoked_at').where('id', '=', stored.grantId).executeTakeFirst();
      expect(mark?.revoked_at).toBe(at);
    }
  });

  it('a reuse within the grace window is refused but revokes nothing', async () => {
    const t = await login();
    const rotated = (await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth())).json;
    const reuse = await postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth());
    expect(reuse.json.error).toBe('invalid_grant');
    expect(await introspect(rotated.access_token)).toMatchObject({ active: true });
  });
});
