import type { AlterTableCmd } from '@pgsql/types'
import { columnConstraints } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

/** The CHECK constraint an action validates against existing rows, or undefined. */
function checkOf(cmd: AlterTableCmd): Fields | undefined {
  const def = unwrap(cmd.def)
  if (cmd.subtype === 'AT_AddConstraint' && def?.[0] === 'Constraint') {
    return def[1].contype === 'CONSTR_CHECK' && def[1].skip_validation !== true ? def[1] : undefined
  }
  if (cmd.subtype === 'AT_AddColumn' && def?.[0] === 'ColumnDef') {
    return columnConstraints(def[1]).find((c) => c.contype === 'CONSTR_CHECK' && c.skip_validation !== true)
  }
  return undefined
}

function columnName(cmd: AlterTableCmd): string {
  const def = unwrap(cmd.def)
  return def?.[0] === 'ColumnDef' ? String(def[1].colname ?? '') : ''
}

function constraintName(t: string, cmd: AlterTableCmd): string {
  const con = checkOf(cmd)
  return typeof con?.conname === 'string' ? con.conname : `${t.replace(/.*\./, '')}_check`
}

/** ADD CONSTRAINT ... CHECK without NOT VALID reads every row under ACCESS EXCLUSIVE. */
export const addCheckWithoutNotValid = defineRule<AlterTableCmd>({
  id: 'add-check-without-not-valid',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (checkOf(cmd) !== undefined && existingRelation(ctx) ? ctx.relation : undefined),
  message: (t, cmd) =>
    `${cmd.subtype === 'AT_AddColumn' ? `ADD COLUMN ${columnName(cmd)} with a CHECK` : `ADD CONSTRAINT ${constraintName(t, cmd)} CHECK`} reads every row of ${t} under an ACCESS EXCLUSIVE lock: reads and writes of ${t} wait until the check ends.`,
  hint: (t, cmd) =>
    `1. Add the constraint with NOT VALID: ALTER TABLE ${t} ADD CONSTRAINT ${constraintName(t, cmd)} CHECK (...) NOT VALID (new rows are checked, the lock is brief). 2. In a later migration, run ALTER TABLE ${t} VALIDATE CONSTRAINT ${constraintName(t, cmd)}: it reads the old rows under SHARE UPDATE EXCLUSIVE, so reads and writes go on.`,
})
