import { postgresAvailable } from '../support/services.js';
import { durabilitySuite } from './durability.js';

// Issue 13 item 6 and the rolling restart, on PostgreSQL (a schema of its own; see durability.ts).
durabilitySuite('postgres', await postgresAvailable());
