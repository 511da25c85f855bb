// The `saml` configuration section: its defaults, and a bad value named by its key.
import { expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

test('saml defaults: 16 KiB, 512 elements, 1024 attributes, queue 16, 30 failures a minute, no extra recipients, no refresh tokens, workers automatic', () => {
  const config = loadConfig({}, {});
  expect(config.saml).toEqual({ maxAssertionBytes: 16384, maxElements: 512, maxAttributes: 1024, queueSize: 16, maxFailuresPerMinute: 30, recipients: [], refreshTokens: false });
});

test('saml values are validated and named in the error', () => {
  expect(loadConfig({}, {}, { saml: { workers: 2, recipients: ['https://gw.example.com/oauth2/token'] } }).saml).toMatchObject({ workers: 2, recipients: ['https://gw.example.com/oauth2/token'] });
  expect(() => loadConfig({}, {}, { saml: { maxAssertionBytes: 10 } })).toThrow(/saml\.maxAssertionBytes: /);
  expect(() => loadConfig({}, {}, { saml: { workers: 0 } })).toThrow(/saml\.workers: /);
  expect(() => loadConfig({}, {}, { saml: { recipients: ['not a url'] } })).toThrow(/saml\.recipients\.0: /);
  expect(() => loadConfig({}, {}, { saml: { maxSessions: 1 } })).toThrow(/saml\.maxSessions: unknown configuration key/);
});
