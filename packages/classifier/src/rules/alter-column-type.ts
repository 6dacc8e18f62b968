import type { AlterTableCmd } from '@pgsql/types'
import { losslessTypeChange } from '../old-column-type.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_AlterColumnType'])

/** ALTER COLUMN ... TYPE rewrites every value of the column. */
export const alterColumnType = defineRule<AlterTableCmd>({
  id: 'alter-column-type',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    if (!SUBTYPES.has(String(cmd.subtype))) return undefined
    // The history knows the old type, and the new one holds every old value unchanged.
    if (losslessTypeChange(cmd as unknown as Fields, ctx)) return undefined
    return actionTarget(cmd, ctx)
  },
  message: (t) =>
    `ALTER COLUMN ${t} TYPE converts every value; a narrowing type or a USING expression can change or lose data.`,
  hint: 'Add a new column of the new type, backfill it, switch the app, then drop the old column.',
})
