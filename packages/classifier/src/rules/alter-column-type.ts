import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_AlterColumnType'])

/** ALTER COLUMN ... TYPE rewrites every value of the column. */
export const alterColumnType = defineRule<AlterTableCmd>({
  id: 'alter-column-type',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) =>
    `ALTER COLUMN ${t} TYPE converts every value; a narrowing type or a USING expression can change or lose data.`,
  hint: 'Add a new column of the new type, backfill it, switch the app, then drop the old column.',
})
