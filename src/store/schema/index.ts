import type { AuthorizationTables } from './authorization.js';
import type { ClusterTables } from './cluster.js';
import type { CoreTables } from './core.js';
import type { GatewayTables } from './gateway.js';
import type { GrantTables } from './grants.js';
import type { ManagementTables } from './management.js';
import type { SamlTables } from './saml.js';

/** Every table, by area; each area's file mirrors the migration that creates it. */
export interface Database extends CoreTables, AuthorizationTables, SamlTables, GatewayTables, GrantTables, ManagementTables, ClusterTables {}

export type { Epoch } from './common.js';
export type * from './core.js';
export type * from './authorization.js';
export type * from './saml.js';
export type * from './gateway.js';
export type * from './grants.js';
export type * from './management.js';
export type * from './cluster.js';
