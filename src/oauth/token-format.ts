import { sha256 } from '../crypto/hash.js';
import { newOpaqueToken } from '../crypto/random.js';

/**
 * How tokens look on the wire and how they are keyed in the store: a swappable strategy.
 * The default is opaque: 256 random bits, stored only as SHA-256.
 */
export interface TokenFormat {
  generate(): string;
  key(token: string): string;
}

export const opaqueTokens: TokenFormat = {
  generate: newOpaqueToken,
  key: sha256,
};
