import type { UpdateStmt } from '@pgsql/types'
import { onlyFreshRows } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'
import { narrows, whereTarget } from './where.js'

/** UPDATE with no WHERE (or one that cannot narrow the rows) overwrites every row. */
export const updateWithoutWhere = defineRule<UpdateStmt>({
  id: 'update-without-where',
  tier: 'destructive',
  kinds: ['UpdateStmt'],
  check: (s, ctx) =>
    onlyFreshRows(s, ctx)
      ? undefined
      : narrows(s.whereClause, whereTarget(s.relation as never, s.fromClause, s.withClause))
        ? undefined
        : rangeVarName(s.relation),
  message: (t) =>
    `UPDATE ${t} has no WHERE that narrows the rows: it overwrites every row, and the old values are lost.`,
  hint: 'Add a WHERE that names the rows by a column of the table; for a backfill, update in batches by key range.',
})
