import type { AlterTableCmd } from '@pgsql/types'
import { columnConstraints, columnType } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

/** Types that bring their own default (a sequence). */
const SERIAL = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial'])

/** The ColumnDef of ADD COLUMN ... NOT NULL with nothing to fill existing rows, or undefined. */
function requiredColumn(cmd: AlterTableCmd): Fields | undefined {
  const w = unwrap(cmd.def)
  if (cmd.subtype !== 'AT_AddColumn' || w?.[0] !== 'ColumnDef') return undefined
  const def = w[1]
  const constraints = columnConstraints(def)
  if (def.raw_default !== undefined) return undefined
  const notNull = def.is_not_null === true || constraints.some((c) => c.contype === 'CONSTR_NOTNULL')
  const filled = constraints.some(
    (c) => c.contype === 'CONSTR_DEFAULT' || c.contype === 'CONSTR_IDENTITY' || c.contype === 'CONSTR_GENERATED',
  )
  const serial = SERIAL.has(columnType(def.typeName)?.name ?? '')
  return notNull && !filled && !serial ? def : undefined
}

/** ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows. */
export const addingRequiredField = defineRule<AlterTableCmd>({
  id: 'adding-required-field',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const def = requiredColumn(cmd)
    if (def === undefined || !existingRelation(ctx)) return undefined
    return `${ctx.relation}.${String(def.colname ?? '')}`
  },
  message: (t) =>
    `ADD COLUMN ${t} is NOT NULL with no DEFAULT: the existing rows would hold NULL, so the migration fails as soon as the table has a row.`,
  hint: (t) => {
    const dot = t.lastIndexOf('.')
    const table = t.slice(0, dot)
    const column = t.slice(dot + 1)
    return `1. ALTER TABLE ${table} ADD COLUMN ${column} with a constant DEFAULT (since Postgres 11 it is stored once, with no rewrite), or with no NOT NULL. 2. Backfill existing rows in batches. 3. Then add CHECK (${column} IS NOT NULL) NOT VALID, VALIDATE it in a later migration, and SET NOT NULL.`
  },
})
