import type { ClusterStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'

/** CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE. */
export const cluster = defineRule<ClusterStmt>({
  id: 'cluster',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['ClusterStmt'],
  check: (s) => (s.relation === undefined ? 'every clustered table of the database' : rangeVarName(s.relation)),
  message: (t) =>
    `CLUSTER rewrites ${t} in index order under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends, and the disk must hold a second copy meanwhile.`,
  hint: 'Use pg_repack with --order-by (or REPACK CONCURRENTLY ... USING INDEX on Postgres 19), which holds the strong lock only briefly; the order decays with new writes either way.',
})
