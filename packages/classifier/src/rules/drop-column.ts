import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_DropColumn'])

/** ALTER TABLE ... DROP COLUMN loses the column’s data. */
export const dropColumn = defineRule<AlterTableCmd>({
  id: 'drop-column',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) =>
    `DROP COLUMN ${t} deletes the column and its value in every row; clients that still read it start failing.`,
  hint: '1. Stop reading and writing the column in the app and deploy. 2. Back up the column if you may need it. 3. Then drop it.',
})
