import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

/**
 * DROP IDENTITY drops the column's sequence with its position: the values already written stay, but
 * the counter is gone, and inserts that relied on it fail or, if it is re-created, collide.
 */
export const dropIdentity = defineRule<AlterTableCmd>({
  id: 'drop-identity',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (cmd.subtype === 'AT_DropIdentity' ? actionTarget(cmd, ctx) : undefined),
  message: (t) =>
    `ALTER COLUMN ${t} DROP IDENTITY drops the column's sequence and its position; inserts without a value fail from now on.`,
  hint: 'Keep the identity; to change how values are generated, ALTER COLUMN ... SET GENERATED or RESTART WITH a value above the current maximum.',
})
