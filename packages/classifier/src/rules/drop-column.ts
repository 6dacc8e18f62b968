import type { AlterTableCmd } from '@pgsql/types'
import { freshColumn } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_DropColumn'])

/** ALTER TABLE ... DROP COLUMN loses the column’s data. */
export const dropColumn = defineRule<AlterTableCmd>({
  id: 'drop-column',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    if (!SUBTYPES.has(String(cmd.subtype))) return undefined
    // A column this script added holds only what the script wrote (a temporary column of a backfill).
    if (typeof cmd.name === 'string' && ctx.ancestors.length <= 1 && freshColumn(ctx.script, ctx.relation, cmd.name))
      return undefined
    return actionTarget(cmd, ctx)
  },
  message: (t) =>
    `DROP COLUMN ${t} deletes the column and its value in every row; clients that still read it start failing.`,
  hint: '1. Stop reading and writing the column in the app and deploy. 2. Back up the column if you may need it. 3. Then drop it.',
})
