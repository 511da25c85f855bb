/**
 * Entry point of a SAML verification worker (node:worker_threads), started by pool.ts from the
 * compiled dist/saml/worker.js. It runs the whole verifier after decoding; the issuer lookup is
 * a round trip to the main thread, which owns the database.
 */
import { parentPort } from 'node:worker_threads';
import { SamlValidationError } from './errors.js';
import { verifyDecodedAssertion } from './verify.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import type { SamlIdentityProvider } from './types.js';

class LookupFailed extends Error {}

const port = parentPort;
if (!port) throw new Error('saml/worker.js runs only as a worker thread');

const lookups = new Map<number, { resolve(idp: SamlIdentityProvider | undefined): void; reject(error: Error): void }>();
const send = (message: FromWorker) => port.postMessage(message);

async function verify(id: number, xml: string, options: Extract<ToWorker, { type: 'verify' }>['options']): Promise<void> {
  try {
    const claims = await verifyDecodedAssertion(xml, {
      ...options,
      findIdp: (issuer) =>
        new Promise<SamlIdentityProvider | undefined>((resolve, reject) => {
          lookups.set(id, { resolve, reject });
          send({ type: 'find-idp', id, issuer });
        }),
    });
    send({ type: 'claims', id, claims });
  } catch (error) {
    if (error instanceof SamlValidationError) send({ type: 'invalid', id, description: error.description });
    else if (error instanceof LookupFailed) send({ type: 'lookup-failed', id });
    else send({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
  } finally {
    lookups.delete(id);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'verify') {
    void verify(message.id, message.xml, message.options);
    return;
  }
  const lookup = lookups.get(message.id);
  if (!lookup) return;
  if (message.type === 'idp') lookup.resolve(message.idp ?? undefined);
  else lookup.reject(new LookupFailed());
});

send({ type: 'ready' });
