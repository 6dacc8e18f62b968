import type { AlterTableCmd } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName, unwrap } from '../walk.js'

function foreignKey(cmd: AlterTableCmd): Fields | undefined {
  if (cmd.subtype !== 'AT_AddConstraint') return undefined
  const con = unwrap(cmd.def)
  return con?.[0] === 'Constraint' && con[1].contype === 'CONSTR_FOREIGN' && con[1].skip_validation !== true
    ? con[1]
    : undefined
}

function words(t: string, cmd: AlterTableCmd): { name: string; table: string; ref: string } {
  const con = foreignKey(cmd) ?? {}
  const name = typeof con.conname === 'string' ? con.conname : `${t.replace(/.*\./, '')}_fkey`
  return { name, table: t, ref: rangeVarName(con.pktable) || 'the referenced table' }
}

/** ADD FOREIGN KEY without NOT VALID checks every row while both tables' writes wait. */
export const addForeignKeyWithoutNotValid = defineRule<AlterTableCmd>({
  id: 'add-foreign-key-without-not-valid',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (foreignKey(cmd) !== undefined && existingRelation(ctx) ? ctx.relation : undefined),
  message: (t, cmd) => {
    const { name, ref } = words(t, cmd)
    return `ADD CONSTRAINT ${name} FOREIGN KEY checks every row of ${t} against ${ref} while holding SHARE ROW EXCLUSIVE locks on both: writes to ${t} and ${ref} wait until the check ends.`
  },
  hint: (t, cmd) => {
    const { name } = words(t, cmd)
    return `1. Add the constraint with NOT VALID: new rows are checked, old ones are not, and the lock is brief. 2. In a later migration, run ALTER TABLE ${t} VALIDATE CONSTRAINT ${name}: it checks the old rows under SHARE UPDATE EXCLUSIVE, so reads and writes go on.`
  },
})
