import type { MergeStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'

/** MERGE can update and delete the rows it matches. */
export const merge = defineRule<MergeStmt>({
  id: 'merge',
  tier: 'cautious',
  kinds: ['MergeStmt'],
  check: (s) => rangeVarName(s.relation),
  message: (t) => `MERGE INTO ${t} can overwrite or delete every row it matches.`,
  hint: 'Rehearse it first to see how many rows it changes, then run it with confirm.',
})
