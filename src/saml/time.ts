import { fail } from './errors.js';

// xs:dateTime with a mandatory time zone (SAML requires UTC; an explicit offset is tolerated).
// Four-digit years only; fractional seconds allowed.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an xs:dateTime into epoch milliseconds; throws SamlValidationError naming `what` on any
 * malformed or out-of-range value (garbage dates are never silently ignored).
 */
export function parseDateTimeMs(value: string, what: string): number {
  const m = DATE_TIME.exec(value);
  if (!m) fail(`${what} is not a valid xs:dateTime`);
  const [, ys, mos, ds, hs, mis, ss, frac, tz] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    fail(`${what} is not a valid xs:dateTime`);
  }
  let offsetMinutes = 0;
  if (tz !== 'Z') {
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 14 || om > 59 || (oh === 14 && om !== 0)) fail(`${what} is not a valid xs:dateTime`);
    offsetMinutes = (tz.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const millis = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime() - offsetMinutes * 60_000;
}
