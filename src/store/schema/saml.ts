import type { Epoch } from './common.js';

/** Trusted identity providers and the assertion replay cache (migration 0003). */
export interface SamlIdpsTable {
  /** The admin API's identifier (0008). */
  id: string;
  issuer: string;
  /** WSO2's "alias": one more accepted Audience and Recipient for the IdP; null: none. */
  alias: string | null;
  /** JSON array of PEM certificates (several during a key rollover). */
  certificates: string;
  /** JSON array of accepted Audience URIs; null: none registered (see 0006_saml_audiences). */
  audiences: string | null;
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
