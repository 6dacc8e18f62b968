import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_DropConstraint'])

/** ALTER TABLE ... DROP CONSTRAINT removes a guarantee the data relied on. */
export const dropConstraint = defineRule<AlterTableCmd>({
  id: 'drop-constraint',
  tier: 'destructive',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) =>
    `DROP CONSTRAINT ${t} removes a guarantee (uniqueness, a foreign key, a check): bad rows can enter from now on.`,
  hint: 'Keep the constraint; if it must change, add the new one first (NOT VALID, then VALIDATE), then drop the old.',
})
