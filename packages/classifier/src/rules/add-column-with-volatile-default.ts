import type { AlterTableCmd } from '@pgsql/types'
import { addColumnRewrite } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

function columnDef(cmd: AlterTableCmd): Fields | undefined {
  const def = unwrap(cmd.def)
  return cmd.subtype === 'AT_AddColumn' && def?.[0] === 'ColumnDef' ? def[1] : undefined
}

/** Reasons are computed in check (which knows the Postgres version) and read back by message. */
const reasons = new WeakMap<object, string>()

/**
 * ADD COLUMN whose default is evaluated per row (volatile, serial, identity; any default before
 * Postgres 11) rewrites the table under ACCESS EXCLUSIVE.
 */
export const addColumnWithVolatileDefault = defineRule<AlterTableCmd>({
  id: 'add-column-with-volatile-default',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const def = columnDef(cmd)
    if (def === undefined || !existingRelation(ctx)) return undefined
    const rewrite = addColumnRewrite(def, ctx.pgVersion)
    if (rewrite?.kind !== 'default') return undefined
    reasons.set(cmd, rewrite.reason)
    return `${ctx.relation}.${String(def.colname ?? '')}`
  },
  message: (t, cmd) =>
    `ADD COLUMN ${t} rewrites the table under an ACCESS EXCLUSIVE lock, because ${reasons.get(cmd) ?? 'its default is evaluated for every row'}: reads and writes wait until it ends.`,
  hint: (t) => {
    const dot = t.lastIndexOf('.')
    const table = t.slice(0, dot)
    const column = t.slice(dot + 1)
    return `1. ALTER TABLE ${table} ADD COLUMN ${column} with no default (or a constant one: since Postgres 11 it is stored once, with no rewrite). 2. ALTER TABLE ${table} ALTER COLUMN ${column} SET DEFAULT ... for new rows. 3. Backfill existing rows in batches.`
  },
})
