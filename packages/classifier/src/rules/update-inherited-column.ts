import type { UpdateStmt } from '@pgsql/types'
import { mayReachChildColumn } from '../fresh-objects.js'
import { defineRule } from '../rule.js'

/**
 * UPDATE of a column the script added to an old table, without proof that no inheritance child
 * already had a column of that name: `ALTER TABLE parent ADD COLUMN x` merges with such a column
 * (its values stay), and `UPDATE parent SET x = ...` overwrites them in every child row.
 */
export const updateInheritedColumn = defineRule<UpdateStmt>({
  id: 'update-inherited-column',
  tier: 'cautious',
  kinds: ['UpdateStmt'],
  check: (s, ctx) => mayReachChildColumn(s, ctx),
  message: (t) =>
    `UPDATE ${t} sets only columns this script added, but it also updates ${t}'s inheritance children, and a child that already had a column of that name kept its values in it: they would be overwritten.`,
  hint: 'Write UPDATE ONLY (the table alone), or add the column with ALTER TABLE ONLY (Postgres refuses it while children exist).',
})
