import type { SamlBearerClaims, SamlIdentityProvider } from './types.js';

/** What the pool sends with each assertion: everything but findIdp, which stays on the main thread. */
export interface WorkerVerifyOptions {
  nowSeconds: number;
  skewSeconds: number;
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  maxAttributes: number;
}

/** Main thread → worker. A worker verifies one assertion at a time. */
export type ToWorker =
  | { type: 'verify'; id: number; xml: string; options: WorkerVerifyOptions }
  /** The answer to a find-idp request (null: no such IdP). */
  | { type: 'idp'; id: number; idp: SamlIdentityProvider | null }
  /** The lookup threw (a database outage, say); the main thread keeps the error. */
  | { type: 'idp-failed'; id: number };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'find-idp'; id: number; issuer: string }
  | { type: 'claims'; id: number; claims: SamlBearerClaims }
  | { type: 'invalid'; id: number; description: string }
  | { type: 'lookup-failed'; id: number }
  | { type: 'error'; id: number; message: string };
