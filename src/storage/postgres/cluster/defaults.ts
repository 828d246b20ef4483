// A cluster member's lease and heartbeat when not configured (no imports: `wharf start`'s configuration reads
// these without loading the PostgreSQL driver). Kafka's KRaft brokers use a 9 s session and a 2 s heartbeat;
// a 6 s lease moves a dead broker's partitions within the 10 s Wharf promises.
export const DEFAULT_LEASE_MS = 6_000
export const DEFAULT_HEARTBEAT_MS = 1_500
