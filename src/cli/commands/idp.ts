import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { IdentityProviderView } from '../../manage/index.js';
import { collect, nextHint, pageOptions, withManagement } from '../manage.js';
import { CliError, emit, run } from '../output.js';

/** The text of a certificate file; the service checks that it is exactly one certificate. */
function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read certificate ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

const line = (i: IdentityProviderView) => `${i.issuer}\taudiences ${i.audiences.join(' ')}\t${i.certificates.length} certificate(s)`;

export function idpCommand(): Command {
  const idp = new Command('idp').description('trust SAML 2.0 identity providers for the saml2-bearer grant');

  idp
    .command('add')
    .description('register an identity provider whose signed assertions may be exchanged for tokens')
    .requiredOption('--issuer <entityId>', "the IdP's entity ID, as in the assertion's <Issuer>")
    .requiredOption('--cert <pemFile>', "the IdP's signing certificate (repeat for a key rollover)", collect)
    .option('--audience <uri>', "an Audience the IdP's assertions may name (repeatable; default: oauth.issuer and <oauth.issuer>/token)", collect, [])
    .option('--alias <uri>', "WSO2's alias: accepted as Audience and as bearer Recipient")
    .option('--json', 'print one JSON object')
    .action(async (opts: { issuer: string; cert: string[]; audience: string[]; alias?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const certificates = opts.cert.map(readPem);
        const added = await withManagement(cmd, (m, actor) =>
          m.identityProviders.create(actor, { issuer: opts.issuer, certificates, audiences: opts.audience, ...(opts.alias !== undefined ? { alias: opts.alias } : {}) }),
        );
        emit(opts, added, `identity provider ${added.issuer} registered; assertions must name the audience ${added.audiences.join(' or ')} and a bearer Recipient (if any) of ${added.recipients.join(' or ')}`);
      }),
    );

  idp
    .command('list')
    .description('list trusted identity providers')
    .option('--limit <n>', 'identity providers per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (opts: { limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const page = await withManagement(cmd, (m, actor) => m.identityProviders.list(actor, pageOptions(opts)));
        emit(opts, page, (page.items.length === 0 ? 'no identity providers' : page.items.map(line).join('\n')) + nextHint(page.next));
      }),
    );

  idp
    .command('update')
    .description("replace an identity provider's certificates (a key rollover), alias or accepted audiences")
    .requiredOption('--issuer <entityId>', "the IdP's entity ID")
    .option('--cert <pemFile>', 'replace the certificates (repeatable)', collect)
    .option('--audience <uri>', 'replace the accepted audiences (repeatable)', collect)
    .option('--no-audiences', 'accept the default audiences again')
    .option('--alias <uri>', 'set the alias ("" removes it)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { issuer: string; cert?: string[]; audience?: string[]; audiences?: boolean; alias?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const certificates = opts.cert?.map(readPem);
        const updated = await withManagement(cmd, async (m, actor) =>
          m.identityProviders.update(actor, (await m.identityProviders.byIssuer(actor, opts.issuer)).id, {
            ...(certificates !== undefined ? { certificates } : {}),
            ...(opts.audience !== undefined ? { audiences: opts.audience } : {}),
            ...(opts.audiences === false ? { removeAudiences: true } : {}),
            ...(opts.alias !== undefined ? { alias: opts.alias === '' ? null : opts.alias } : {}),
          }),
        );
        emit(opts, updated, `identity provider ${updated.issuer} updated: ${line(updated)}`);
      }),
    );

  idp
    .command('remove')
    .description('stop trusting an identity provider: its assertions are refused and its tokens revoked')
    .requiredOption('--issuer <entityId>', "the IdP's entity ID")
    .option('--json', 'print one JSON object')
    .action(async (opts: { issuer: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const result = await withManagement(cmd, async (m, actor) => m.identityProviders.remove(actor, (await m.identityProviders.byIssuer(actor, opts.issuer)).id));
        emit(opts, { issuer: opts.issuer, removed: true, revokedGrants: result.revokedGrants }, `identity provider ${opts.issuer} removed (${result.revokedGrants} grant(s) revoked)`);
      }),
    );
  return idp;
}
