import type { InsertStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'

/** INSERT ... ON CONFLICT DO UPDATE overwrites existing rows. */
export const upsert = defineRule<InsertStmt>({
  id: 'upsert',
  tier: 'cautious',
  kinds: ['InsertStmt'],
  check: (s) => (s.onConflictClause?.action === 'ONCONFLICT_UPDATE' ? rangeVarName(s.relation) : undefined),
  message: (t) => `INSERT INTO ${t} ... ON CONFLICT DO UPDATE overwrites the existing rows it collides with.`,
  hint: 'Rehearse it to see how many rows it overwrites; use ON CONFLICT DO NOTHING to keep existing rows.',
})
