import type { Epoch } from './common.js';

/** Published APIs and subscriptions (migration 0004). */
export type ApiStatus = 'CREATED' | 'PUBLISHED' | 'RETIRED';
export type SubscriptionStatus = 'ACTIVE' | 'BLOCKED';

export interface ApisTable {
  id: string;
  name: string;
  context: string;
  version: string;
  production_url: string;
  sandbox_url: string | null;
  /** JSON array of tier names the API offers. */
  tiers: string;
  status: ApiStatus;
  timeout_ms: number | null;
  /** 1 when the gateway passes the backend an X-JWT-Assertion. */
  send_jwt: number;
  created_at: Epoch;
  description: string | null;
}

export interface SubscriptionsTable {
  id: string;
  application_id: string;
  api_id: string;
  tier: string;
  status: SubscriptionStatus;
  created_at: Epoch;
}

export interface GatewayTables {
  apis: ApisTable;
  subscriptions: SubscriptionsTable;
}
