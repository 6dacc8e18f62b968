import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap, walk } from '../walk.js'
import { actionTarget } from './alter-table.js'

/** True when the USING expression reads the column being converted. */
function usingReadsColumn(cmd: AlterTableCmd): boolean {
  const def = unwrap(cmd.def)
  const using = def?.[0] === 'ColumnDef' ? def[1].raw_default : undefined
  if (using === undefined) return true
  let reads = false
  walk(using, (type, f) => {
    if (type !== 'ColumnRef' || reads) return undefined
    const fields = Array.isArray(f.fields) ? f.fields : []
    const last = unwrap(fields[fields.length - 1])
    if (last?.[0] === 'String' && last[1].sval === cmd.name) reads = true
    return false
  })
  return reads
}

/** ALTER COLUMN ... TYPE ... USING an expression that ignores the column overwrites every value. */
export const alterColumnTypeDiscardsValues = defineRule<AlterTableCmd>({
  id: 'alter-column-type-discards-values',
  tier: 'destructive',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    cmd.subtype === 'AT_AlterColumnType' && !usingReadsColumn(cmd) ? actionTarget(cmd, ctx) : undefined,
  message: (t) =>
    `ALTER COLUMN ${t} TYPE ... USING an expression that does not read the column replaces every value of it.`,
  hint: 'Convert from the old value (USING the column itself); to reset a column, add a new one and drop the old one later.',
})
