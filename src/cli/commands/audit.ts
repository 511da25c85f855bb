import { Command } from 'commander';
import type { AuditEventView } from '../../manage/index.js';
import { nextHint, pageOptions, withManagement } from '../manage.js';
import { emit, run } from '../output.js';

const line = (e: AuditEventView) =>
  `${e.at}\t${e.actor}${e.address ? `@${e.address}` : ''}\t${e.via}\t${e.operation}\t${e.targetType}${e.targetId ? ` ${e.targetId}` : ''}${e.detail ? `\t${JSON.stringify(e.detail)}` : ''}`;

export function auditCommand(): Command {
  return new Command('audit')
    .description('the audit trail: every change made through the CLI, the admin API and the portal, newest first')
    .option('--since <when>', 'only events since an ISO 8601 time or a duration ago (15m, 24h, 7d)')
    .option('--limit <n>', 'events per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (opts: { since?: string; limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const page = await withManagement(cmd, (m, actor) => m.audit.list(actor, opts.since === undefined ? {} : { since: opts.since }, pageOptions(opts)));
        emit(opts, page, (page.items.length === 0 ? 'no audit events' : page.items.map(line).join('\n')) + nextHint(page.next));
      }),
    );
}
