import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { Command } from 'commander';
import type { IdentityProvider } from '../../store/idps.js';
import { NotFound } from '../../errors.js';
import type { Config } from '../../config/schema.js';
import { acceptedAudiences, acceptedRecipients } from '../../saml/audiences.js';
import { withStore } from '../context.js';
import { CliError, emit, run } from '../output.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Reads a PEM certificate file, refusing anything that is not exactly one parseable certificate. */
function readCertificate(file: string): { pem: string; cert: X509Certificate } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read certificate ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) throw new CliError(`${file} must hold exactly one PEM certificate (found ${blocks.length})`);
  try {
    return { pem: `${blocks[0]!}\n`, cert: new X509Certificate(blocks[0]!) };
  } catch (err) {
    throw new CliError(`${file} is not a valid X.509 certificate: ${(err as Error).message}`);
  }
}

/** What this node accepts from the IdP: Audience values (any one, in every AudienceRestriction) and bearer Recipients. */
const accepted = (idp: IdentityProvider, config: Pick<Config, 'oauth' | 'saml'>) => ({
  audiences: acceptedAudiences(idp, config.oauth.issuer),
  recipients: acceptedRecipients(idp, config.oauth.issuer, config.saml.recipients),
});

const describeIdp = (idp: IdentityProvider, config: Config) => ({
  issuer: idp.issuer,
  alias: idp.alias,
  ...accepted(idp, config),
  certificates: idp.certificates.map((pem) => {
    const c = new X509Certificate(pem);
    return { subject: c.subject, fingerprint256: c.fingerprint256, validTo: new Date(c.validTo).toISOString() };
  }),
});

const MAX_AUDIENCES = 20;

/** An Audience or alias URI: 1 to 512 characters, no whitespace or control characters. */
function checkUri(flag: string, value: string): void {
  if (value.length === 0 || value.length > 512 || /[\s\x00-\x1f\x7f]/.test(value)) {
    throw new CliError(`${flag} must be a URI of 1 to 512 characters without spaces (got ${JSON.stringify(value.slice(0, 80))})`);
  }
}

export function idpCommand(): Command {
  const idp = new Command('idp').description('trust SAML 2.0 identity providers for the saml2-bearer grant');

  idp
    .command('add')
    .description('register an identity provider whose signed assertions may be exchanged for tokens')
    .requiredOption('--issuer <entityId>', 'the IdP\'s entity ID, as in the assertion\'s <Issuer>')
    .requiredOption('--cert <pemFile>', 'the IdP\'s signing certificate (repeat for a key rollover)', collect, [])
    .option('--audience <uri>', 'an Audience the IdP\'s assertions may name (repeatable; default: oauth.issuer and <oauth.issuer>/token)', collect, [])
    .option('--alias <uri>', 'WSO2\'s alias: accepted as Audience and as bearer Recipient')
    .option('--json', 'print one JSON object')
    .action(async (opts: { issuer: string; cert: string[]; audience: string[]; alias?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        if (opts.issuer.trim() === '' || opts.issuer.length > 512) throw new CliError('--issuer must be 1 to 512 characters');
        if (opts.cert.length === 0) throw new CliError('give at least one --cert');
        const certificates = opts.cert.map((f) => readCertificate(f).pem);
        if (opts.alias !== undefined) checkUri('--alias', opts.alias);
        for (const a of opts.audience) checkUri('--audience', a);
        if (opts.audience.length > MAX_AUDIENCES) throw new CliError(`give at most ${MAX_AUDIENCES} --audience values`);
        const audiences = [...new Set(opts.audience)];
        await withStore(cmd, async (store, config) => {
          const record: IdentityProvider = { issuer: opts.issuer, alias: opts.alias ?? null, audiences, certificates };
          await store.idps.add(record);
          const { audiences: a, recipients: r } = accepted(record, config);
          emit(opts, describeIdp(record, config), `identity provider ${opts.issuer} registered; assertions must name the audience ${a.join(' or ')} and a bearer Recipient (if any) of ${r.join(' or ')}`);
        });
      }),
    );

  idp
    .command('list')
    .description('list trusted identity providers')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withStore(cmd, async (store, config) => {
          const all = (await store.idps.list()).map((i) => describeIdp(i, config));
          emit(opts, { idps: all }, all.length === 0 ? 'no identity providers' : all.map((i) => `${i.issuer}\taudiences ${i.audiences.join(' ')}\t${i.certificates.length} certificate(s)`).join('\n'));
        });
      }),
    );

  idp
    .command('remove')
    .description('stop trusting an identity provider')
    .requiredOption('--issuer <entityId>', 'the IdP\'s entity ID')
    .option('--json', 'print one JSON object')
    .action(async (opts: { issuer: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const removed = await withStore(cmd, (store) => store.idps.remove(opts.issuer));
        if (!removed) throw new NotFound(`no identity provider "${opts.issuer}"`);
        emit(opts, { issuer: opts.issuer, removed: true }, `identity provider ${opts.issuer} removed`);
      }),
    );
  return idp;
}
