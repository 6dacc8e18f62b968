import type { AlterTableCmd } from '@pgsql/types'
import { columnConstraints } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName, unwrap } from '../walk.js'

/** The ColumnDef of ADD COLUMN when it has both a REFERENCES and a DEFAULT, else undefined. */
function referencingColumnWithDefault(cmd: AlterTableCmd): { def: Fields; fk: Fields } | undefined {
  if (cmd.subtype !== 'AT_AddColumn') return undefined
  const w = unwrap(cmd.def)
  if (w?.[0] !== 'ColumnDef') return undefined
  const constraints = columnConstraints(w[1])
  const fk = constraints.find((c) => c.contype === 'CONSTR_FOREIGN' && c.skip_validation !== true)
  const hasDefault = w[1].raw_default !== undefined || constraints.some((c) => c.contype === 'CONSTR_DEFAULT')
  return fk !== undefined && hasDefault ? { def: w[1], fk } : undefined
}

function words(cmd: AlterTableCmd): { column: string; ref: string } {
  const found = referencingColumnWithDefault(cmd)
  const column = typeof found?.def.colname === 'string' ? found.def.colname : 'the column'
  return { column, ref: rangeVarName(found?.fk.pktable) || 'the referenced table' }
}

/**
 * ADD COLUMN ... REFERENCES ... DEFAULT: the default fills every row, so Postgres checks every row
 * against the referenced table. Without a default the column is all NULL and Postgres skips the check.
 */
export const addForeignKeyColumnWithDefault = defineRule<AlterTableCmd>({
  id: 'add-foreign-key-column-with-default',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    if (referencingColumnWithDefault(cmd) === undefined || !existingRelation(ctx)) return undefined
    // ADD COLUMN holds ACCESS EXCLUSIVE on the table; the validation reads every row under it.
    ctx.lock('AccessExclusiveLock', { scan: true })
    return ctx.relation
  },
  message: (t, cmd) => {
    const { column, ref } = words(cmd)
    return `ADD COLUMN ${column} ... REFERENCES ${ref} with a DEFAULT checks every row of ${t} against ${ref} while ADD COLUMN holds an ACCESS EXCLUSIVE lock on ${t} and a SHARE ROW EXCLUSIVE lock on ${ref}: reads and writes of ${t}, and writes of ${ref}, wait until the check ends (without a default the new column is all NULL and Postgres skips the check; DEFAULT NULL still counts as a default).`
  },
  hint: (t, cmd) => {
    const { column, ref } = words(cmd)
    return `1. ADD COLUMN ${column} with its DEFAULT and no REFERENCES. 2. ALTER TABLE ${t} ADD CONSTRAINT ... FOREIGN KEY (${column}) REFERENCES ${ref} NOT VALID. 3. In a later migration, VALIDATE CONSTRAINT: it checks the old rows without blocking writes.`
  },
})
