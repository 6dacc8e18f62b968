import type { DeleteStmt } from '@pgsql/types'
import { onlyFreshRows } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'
import { narrows, whereTarget } from './where.js'

/** DELETE with a real WHERE removes the rows it matches. */
export const deleteWithWhere = defineRule<DeleteStmt>({
  id: 'delete-with-where',
  tier: 'cautious',
  kinds: ['DeleteStmt'],
  check: (s, ctx) =>
    onlyFreshRows(s, ctx)
      ? undefined
      : narrows(s.whereClause, whereTarget(s.relation as never, s.usingClause, s.withClause))
        ? rangeVarName(s.relation)
        : undefined,
  message: (t) => `DELETE FROM ${t} removes the rows its WHERE matches; once committed they are gone.`,
  hint: 'Rehearse it first (rehearse: true) to see how many rows it removes, then run it with confirm.',
})
