import type { Epoch } from './common.js';

/** A JWT signing key of the cluster (migration 0012). */
export interface SigningKeysTable {
  generation: number;
  kid: string;
  alg: string;
  /** JSON of the public JWK (kid, alg, use included). */
  public_jwk: string;
  /** The encrypted private key (never in clear). */
  private_key: string;
  created_at: Epoch;
  signs_from: Epoch | null;
  published_until: Epoch | null;
}

/** A job one node at a time runs (migration 0012). */
export interface LeasesTable {
  name: string;
  holder: string;
  /** epoch milliseconds */
  expires_at: number;
}

export interface ClusterTables {
  signing_keys: SigningKeysTable;
  leases: LeasesTable;
}
