import { describe, expect, it } from 'vitest';
import { sha256 } from '../crypto/hash.js';
import type { Client } from '../store/applications.js';
import { authenticateClient, parseBasic } from './client-auth.js';
import { OAuthError } from './errors.js';
import { Params } from './params.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseBasic', () => {
  it('reads the credentials token and ignores what follows a comma (the WSO2 page\'s header)', () => {
    expect(parseBasic(`Basic ${b64('key:secret')}, Content-Type: application/x-www-form-urlencoded`)).toEqual({ id: 'key', secret: 'secret' });
  });
  it('is case-insensitive in the scheme and splits at the first colon', () => {
    expect(parseBasic(`basic ${b64('key:se:cret')}`)).toEqual({ id: 'key', secret: 'se:cret' });
  });
  it('form-urldecodes both parts (RFC 6749 §2.3.1)', () => {
    expect(parseBasic(`Basic ${b64('my%20key:a%2Bb+c')}`)).toEqual({ id: 'my key', secret: 'a+b c' });
  });
  it('ignores other schemes and refuses garbage', () => {
    expect(parseBasic('Bearer abc')).toBeUndefined();
    expect(parseBasic(undefined)).toBeUndefined();
    expect(() => parseBasic('Basic !!!')).toThrow(OAuthError);
    expect(() => parseBasic(`Basic ${b64('nocolon')}`)).toThrow(/consumer-key:consumer-secret/);
    expect(() => parseBasic(`Basic ${b64('bad%zz:x')}`)).toThrow(/form-urlencoded/);
  });
});

describe('authenticateClient', () => {
  const confidential: Client = {
    consumerKey: 'ck', keyType: 'PRODUCTION', secretHash: sha256('s3cret'), validitySeconds: null,
    applicationId: 'a', applicationName: 'app', tier: 'Unlimited', ownerUsername: 'alice', callbackUrls: [],
  };
  const pub: Client = { ...confidential, consumerKey: 'pk', secretHash: null };
  const lookup = { findClient: async (k: string) => (k === 'ck' ? confidential : k === 'pk' ? pub : undefined) };
  const p = (o: Record<string, string> = {}) => new Params(o);
  const fails = async (promise: Promise<unknown>, error: string, status: number) => {
    const e = await promise.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(OAuthError);
    expect((e as OAuthError).error).toBe(error);
    expect((e as OAuthError).status).toBe(status);
  };

  it('accepts Basic and body credentials', async () => {
    expect((await authenticateClient(`Basic ${b64('ck:s3cret')}`, p(), lookup)).method).toBe('client_secret_basic');
    expect((await authenticateClient(undefined, p({ client_id: 'ck', client_secret: 's3cret' }), lookup)).method).toBe('client_secret_post');
  });
  it('identifies a public client by client_id alone, but not a confidential one', async () => {
    expect((await authenticateClient(undefined, p({ client_id: 'pk' }), lookup)).method).toBe('none');
    await fails(authenticateClient(undefined, p({ client_id: 'ck' }), lookup), 'invalid_client', 401);
    await fails(authenticateClient(undefined, p({ client_id: 'pk', client_secret: 'x' }), lookup), 'invalid_client', 401);
  });
  it('refuses wrong secrets, unknown clients, both methods, mismatched ids', async () => {
    await fails(authenticateClient(`Basic ${b64('ck:nope')}`, p(), lookup), 'invalid_client', 401);
    await fails(authenticateClient(`Basic ${b64('zz:nope')}`, p(), lookup), 'invalid_client', 401);
    await fails(authenticateClient(`Basic ${b64('ck:s3cret')}`, p({ client_secret: 's3cret' }), lookup), 'invalid_request', 400);
    await fails(authenticateClient(`Basic ${b64('ck:s3cret')}`, p({ client_id: 'other' }), lookup), 'invalid_request', 400);
    await fails(authenticateClient(undefined, p(), lookup), 'invalid_client', 401);
  });

  it('reports an unknown client without naming it as a client: what was sent is only the presented id (a swapped key and secret)', async () => {
    const reports: unknown[][] = [];
    const failed = (...args: unknown[]) => void reports.push(args);
    await fails(authenticateClient(`Basic ${b64('s3cret:ck')}`, p(), lookup, failed), 'invalid_client', 401);
    await fails(authenticateClient(undefined, p({ client_id: 's3cret', client_secret: 'ck' }), lookup, failed), 'invalid_client', 401);
    await fails(authenticateClient(`Basic ${b64('ck:nope')}`, p(), lookup, failed), 'invalid_client', 401);
    expect(reports).toEqual([
      [undefined, 'unknown_client', 's3cret'],
      [undefined, 'unknown_client', 's3cret'],
      ['ck', 'wrong_secret'],
    ]);
  });
});
