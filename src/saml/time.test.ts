import { describe, expect, test } from 'vitest';
import { SamlValidationError } from './errors.js';
import { parseDateTimeMs } from './time.js';

describe('parseDateTimeMs (xs:dateTime)', () => {
  test.each([
    ['2026-01-15T12:00:00Z', Date.UTC(2026, 0, 15, 12)],
    ['2026-01-15T12:00:00.5Z', Date.UTC(2026, 0, 15, 12) + 500],
    ['2026-01-15T12:00:00.123456789Z', Date.UTC(2026, 0, 15, 12) + 123],
    ['2026-01-15T14:30:00+02:30', Date.UTC(2026, 0, 15, 12)],
    ['2026-01-15T07:00:00-05:00', Date.UTC(2026, 0, 15, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0099-01-01T00:00:00Z', Date.parse('0099-01-01T00:00:00Z')], // not the Date.UTC two-digit-year trap (1999)
  ])('%s', (value, expected) => {
    expect(parseDateTimeMs(value, 'X')).toBe(expected);
  });

  test.each([
    'tomorrow',
    '',
    '2026-01-15',
    '2026-01-15T12:00:00', // no time zone: ambiguous
    '2026-01-15 12:00:00Z',
    ' 2026-01-15T12:00:00Z',
    '2026-01-15T12:00:00Z ',
    '2026-13-01T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-01-15T24:00:00Z',
    '2026-01-15T12:60:00Z',
    '2026-01-15T12:00:60Z',
    '2026-01-15T12:00:00+15:00',
    '2026-01-15T12:00:00+0100',
    '0000-01-01T00:00:00Z',
    '+2026-01-15T12:00:00Z',
    '-2026-01-15T12:00:00Z',
    '12026-01-15T12:00:00Z',
    '2026-01-15T12:00:00.Z',
    '２０２６-01-15T12:00:00Z',
  ])('refuses %j', (value) => {
    expect(() => parseDateTimeMs(value, 'NotOnOrAfter')).toThrow(SamlValidationError);
    expect(() => parseDateTimeMs(value, 'NotOnOrAfter')).toThrow(/NotOnOrAfter is not a valid xs:dateTime/);
  });
});
