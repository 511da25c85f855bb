import type { Epoch } from './common.js';

/** Trusted identity providers and the assertion replay cache (migration 0003). */
export interface SamlIdpsTable {
  issuer: string;
  /** The audience this node answers to for the IdP; null means "<issuer>/token". */
  alias: string | null;
  /** JSON array of PEM certificates (several during a key rollover). */
  certificates: string;
  created_at: Epoch;
}

export interface SamlAssertionsTable {
  issuer: string;
  assertion_id: string;
  not_on_or_after: Epoch;
}

export interface SamlTables {
  saml_idps: SamlIdpsTable;
  saml_assertions: SamlAssertionsTable;
}
