import { InvalidInput } from '../errors.js';
import { requireRole, type Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { isNumber, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import { auditEventView, type AuditEventView } from './views.js';

/** The audit trail: every change through the service, newest first (admins). */
export class Audit {
  constructor(private readonly c: ManageContext) {}

  /** `since`: an ISO 8601 time or a duration back from now such as 15m, 24h, 7d. */
  async list(actor: Actor, filter: { since?: string } = {}, page: PageRequest = {}): Promise<Page<AuditEventView>> {
    requireRole(actor, 'admin', 'reading the audit trail');
    const limit = limitOf(page);
    const since = filter.since === undefined || filter.since === '' ? undefined : parseSince(filter.since, Date.now());
    const before = positionOf(page, isNumber);
    return pageView(await this.c.store.audit.list({ ...(since !== undefined ? { since } : {}), ...(before !== undefined ? { before } : {}), limit }), auditEventView);
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Epoch ms of `since`: an ISO time, or a duration ago (30s, 15m, 24h, 7d). */
export function parseSince(raw: string, now: number): number {
  const rel = /^(\d{1,6})([smhd])$/.exec(raw);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  const t = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t)) throw new InvalidInput('since', `invalid since "${raw.slice(0, 50)}": an ISO 8601 time (2026-12-01T09:00:00Z) or a duration such as 15m, 24h, 7d`);
  return t;
}
