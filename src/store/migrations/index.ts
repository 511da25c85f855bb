import type { Migration, MigrationProvider } from 'kysely';
import * as core from './0001_core.js';
import * as saml from './0003_saml.js';
import * as gateway from './0004_gateway.js';
import * as grants from './0005_grants.js';
import * as samlAudiences from './0006_saml_audiences.js';
import * as authorization from './0002_authorization.js';
import * as revocationIndexes from './0007_revocation_indexes.js';
import * as management from './0008_management.js';
import * as portalSessions from './0009_portal_sessions.js';
import * as signInOrigins from './0011_sign_in_origins.js';
import * as clusterKeysLeases from './0012_cluster_keys_leases.js';
import * as dropGrantIdIndexes from './0013_drop_grant_id_indexes.js';
import * as userLookups from './0014_user_lookups.js';
import * as loginFailuresKeyed from './0015_login_failures_keyed.js';

/**
 * Migrations are compiled into the program (no directory scanning at run time), applied
 * in name order on every start. Add a file and list it here; never edit a released one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_core': core,
  '0002_authorization': authorization,
  '0003_saml': saml,
  '0004_gateway': gateway,
  '0005_grants': grants,
  '0006_saml_audiences': samlAudiences,
  '0007_revocation_indexes': revocationIndexes,
  '0008_management': management,
  '0009_portal_sessions': portalSessions,
  '0011_sign_in_origins': signInOrigins,
  '0012_cluster_keys_leases': clusterKeysLeases,
  '0013_drop_grant_id_indexes': dropGrantIdIndexes,
  '0014_user_lookups': userLookups,
  '0015_login_failures_keyed': loginFailuresKeyed,
};

/** Every migration this version knows, in name order: a database with others is from a newer one. */
export const KNOWN_MIGRATIONS: readonly string[] = Object.keys(MIGRATIONS).sort();

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
