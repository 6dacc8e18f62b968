import type { DeleteStmt } from '@pgsql/types'
import { onlyFreshRows } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'
import { narrows, whereTarget } from './where.js'

/** DELETE with no WHERE (or one that cannot narrow the rows) empties the table. */
export const deleteWithoutWhere = defineRule<DeleteStmt>({
  id: 'delete-without-where',
  tier: 'destructive',
  kinds: ['DeleteStmt'],
  check: (s, ctx) =>
    onlyFreshRows(s, ctx)
      ? undefined
      : narrows(s.whereClause, whereTarget(s.relation as never, s.usingClause, s.withClause))
        ? undefined
        : rangeVarName(s.relation),
  message: (t) => `DELETE FROM ${t} has no WHERE that narrows the rows: it removes every row.`,
  hint: 'Add a WHERE that names the rows by a column of the table. To empty the table on purpose, write TRUNCATE.',
})
