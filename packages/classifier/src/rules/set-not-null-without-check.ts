import type { AlterTableCmd } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { relationKey } from '../locks.js'
import { defineRule } from '../rule.js'
import { nameOf, unwrap } from '../walk.js'

/** The column SET NOT NULL (or ADD CONSTRAINT ... NOT NULL) applies to, or undefined. */
function notNullColumn(cmd: AlterTableCmd): string | undefined {
  if (cmd.subtype === 'AT_SetNotNull') return cmd.name
  const con = unwrap(cmd.def)
  if (cmd.subtype === 'AT_AddConstraint' && con?.[0] === 'Constraint' && con[1].contype === 'CONSTR_NOTNULL') {
    return nameOf(con[1].keys)
  }
  return undefined
}

/** SET NOT NULL reads every row under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) proves it. */
export const setNotNullWithoutCheck = defineRule<AlterTableCmd>({
  id: 'set-not-null-without-check',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const column = notNullColumn(cmd)
    if (column === undefined || !existingRelation(ctx)) return undefined
    if (ctx.script.hazards.notNullProven.has(`${relationKey(ctx.relation)}.${column}`)) return undefined
    return `${ctx.relation}.${column}`
  },
  message: (t) =>
    `SET NOT NULL on ${t} reads every row to prove there is no NULL, under an ACCESS EXCLUSIVE lock: reads and writes of the table wait until it ends.`,
  hint: (t) => {
    const dot = t.lastIndexOf('.')
    const table = t.slice(0, dot)
    const column = t.slice(dot + 1)
    const check = `${table.replace(/.*\./, '')}_${column}_not_null`
    return `1. ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID. 2. In a later migration: ALTER TABLE ${table} VALIDATE CONSTRAINT ${check} (reads and writes go on). 3. ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL: Postgres 12 and later use the validated CHECK and skip the scan. 4. ALTER TABLE ${table} DROP CONSTRAINT ${check}. On Postgres 11 and earlier, stop after step 2 and keep the CHECK instead of NOT NULL.`
  },
})
