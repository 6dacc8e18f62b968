import type { InsertStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName, unwrap } from '../walk.js'
import { isUnfilteredSelf, narrows, whereTarget } from './where.js'

/**
 * An upsert whose rows come from the target table itself, unfiltered, collides with every row and
 * overwrites each (`INSERT INTO t SELECT * FROM t ON CONFLICT (id) DO UPDATE ...`).
 */
function overwritesEveryRow(s: InsertStmt): boolean {
  const relation = s.relation as unknown as Fields | undefined
  const action = s.onConflictClause as unknown as Fields | undefined
  if (action?.whereClause !== undefined && narrows(action.whereClause, whereTarget(relation, []))) return false
  const select = unwrap(s.selectStmt)
  if (select?.[0] !== 'SelectStmt') return false
  const from = Array.isArray(select[1].fromClause) ? select[1].fromClause : []
  if (from.length !== 1 || select[1].limitCount !== undefined) return false
  if (!isUnfilteredSelf(from[0], relation, s.withClause)) return false
  const inner = whereTarget(unwrap(from[0])?.[1], [])
  return select[1].whereClause === undefined || !narrows(select[1].whereClause, inner)
}

/** INSERT ... ON CONFLICT DO UPDATE overwrites existing rows. */
export const upsert = defineRule<InsertStmt>({
  id: 'upsert',
  tier: 'cautious',
  kinds: ['InsertStmt'],
  check: (s) =>
    s.onConflictClause?.action === 'ONCONFLICT_UPDATE'
      ? [{ target: rangeVarName(s.relation), tier: overwritesEveryRow(s) ? 'destructive' : 'cautious' }]
      : undefined,
  message: (t) => `INSERT INTO ${t} ... ON CONFLICT DO UPDATE overwrites the existing rows it collides with.`,
  hint: 'Rehearse it to see how many rows it overwrites; use ON CONFLICT DO NOTHING to keep existing rows.',
})
