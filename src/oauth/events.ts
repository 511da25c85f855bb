import { EventEmitter } from 'node:events';
import type { TokenInvalidation } from '../types.js';

export type { TokenInvalidation };

/**
 * In-process bus for revocations. Local subscribers (the gateway's validation cache) hear
 * of a revocation at once; the cluster transport publishes what it hears here to the other
 * nodes and replays what they publish. Only {@link Revocation} emits revocations.
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
