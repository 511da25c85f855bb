import { EventEmitter } from 'node:events';

/** Tokens that stopped being valid before their expiry; caches (the gateway's) drop them. */
export interface TokenInvalidation {
  tokenHashes?: string[];
  grantIds?: string[];
}

/**
 * In-process bus for revocations. Local subscribers (the gateway's validation cache) hear
 * of a revocation at once; a multi-node transport can publish what it receives here too.
 */
export class TokenEvents {
  private readonly emitter = new EventEmitter();

  onInvalidated(listener: (msg: TokenInvalidation) => void): () => void {
    this.emitter.on('invalidated', listener);
    return () => this.emitter.off('invalidated', listener);
  }

  invalidated(msg: TokenInvalidation): void {
    this.emitter.emit('invalidated', msg);
  }
}
