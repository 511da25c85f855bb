import { durabilitySuite } from './durability.js';

// Issue 13 item 6 and the rolling restart, on SQLite (see durability.ts).
durabilitySuite('sqlite', true);
