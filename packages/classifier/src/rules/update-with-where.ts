import type { UpdateStmt } from '@pgsql/types'
import { onlyFreshRows } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'
import { narrows, whereTarget } from './where.js'

/** UPDATE with a real WHERE overwrites the rows it matches. */
export const updateWithWhere = defineRule<UpdateStmt>({
  id: 'update-with-where',
  tier: 'cautious',
  kinds: ['UpdateStmt'],
  check: (s, ctx) =>
    onlyFreshRows(s, ctx)
      ? undefined
      : narrows(s.whereClause, whereTarget(s.relation as never, s.fromClause, s.withClause))
        ? rangeVarName(s.relation)
        : undefined,
  message: (t) => `UPDATE ${t} overwrites the rows its WHERE matches; the old values are lost once committed.`,
  hint: 'Rehearse it first (rehearse: true) to see how many rows it changes, then run it with confirm.',
})
