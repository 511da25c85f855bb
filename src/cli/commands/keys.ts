import { Command } from 'commander';
import type { SigningKeyView } from '../../manage/index.js';
import { withManagement } from '../manage.js';
import { emit, run } from '../output.js';

const line = (k: SigningKeyView) =>
  `${k.kid}\t${k.state}${k.state === 'retiring' ? ` (published until ${k.publishedUntil})` : ''}\tcreated ${k.createdAt}${k.signsFrom ? `\tsigning since ${k.signsFrom}` : ''}`;

/** `gatehouse keys list|rotate`: the cluster's X-JWT-Assertion signing keys. */
export function keysCommand(): Command {
  const keys = new Command('keys').description("the cluster's JWT signing keys (X-JWT-Assertion), shared by every node on the database");
  keys
    .command('list')
    .description('every signing key: the one signing, the published next one, retiring ones (still in the JWKS) and retired ones')
    .option('--json', 'print one JSON object: {"items": [...]}')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const items = await withManagement(cmd, (m, actor) => m.signingKeys.list(actor));
        emit(opts, { items }, items.map(line).join('\n'));
      }),
    );
  keys
    .command('rotate')
    .description('the next key starts signing on every node (within about a second); a new next key is published; the old one stays published until its assertions have expired')
    .option('--force', 'rotate even though the next key was published less than the JWKS cache lifetime (300 s) ago')
    .option('--json', 'print one JSON object: {"signing", "next", "retiring"}')
    .action(async (opts: { json?: boolean; force?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const r = await withManagement(cmd, (m, actor) => m.signingKeys.rotate(actor, { force: Boolean(opts.force) }));
        emit(opts, r, `signing with ${r.signing.kid}\nnext key ${r.next.kid} published\n${r.retiring.kid} stays published until ${r.retiring.publishedUntil}`);
      }),
    );
  return keys;
}
