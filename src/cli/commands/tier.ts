import { Command } from 'commander';
import type { TierView } from '../../manage/index.js';
import { everyPage } from '../../manage/page.js';
import { withManagement } from '../manage.js';
import { emit, run } from '../output.js';

const line = (t: TierView) => `${t.name}\t${t.description}`;

/** `gatehouse tier list`: the throttling tiers of the configuration, with their limits. */
export function tierCommand(): Command {
  const tier = new Command('tier').description('the throttling tiers (throttling.tiers in the configuration) and their limits');
  tier
    .command('list')
    .description('every tier an API may offer and an application or subscription may have, with its limit')
    .option('--json', 'print one JSON object: {"items": [...]}')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const items = await withManagement(cmd, (m, actor) => everyPage((page) => m.tiers.list(actor, page)));
        emit(opts, { items }, items.map(line).join('\n'));
      }),
    );
  return tier;
}
