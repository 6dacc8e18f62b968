import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget, SAFE_ALTER_TABLE_ACTIONS } from './alter-table.js'

/** Actions that a specific rule covers. */
const COVERED = new Set([
  'AT_DropColumn',
  'AT_DropConstraint',
  'AT_AlterColumnType',
  'AT_DisableTrig',
  'AT_DisableTrigAll',
  'AT_DisableTrigUser',
  'AT_DisableRule',
  'AT_DisableRowSecurity',
  'AT_NoForceRowSecurity',
  'AT_SetUnLogged',
  'AT_DetachPartition',
  'AT_DropInherit',
  'AT_ChangeOwner',
])

/** An ALTER TABLE action no rule maps fails closed. */
export const unknownAlterTableAction = defineRule<AlterTableCmd>({
  id: 'unknown-alter-table-action',
  tier: 'destructive',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const subtype = String(cmd.subtype)
    return SAFE_ALTER_TABLE_ACTIONS.has(subtype) || COVERED.has(subtype)
      ? undefined
      : `${actionTarget(cmd, ctx)} (${subtype})`
  },
  message: (t) => `safe-ddl has no rule for the ALTER TABLE action on ${t}, so it cannot show that it is harmless.`,
  hint: 'Review the action by hand; if it is harmless, report it so a rule can cover it.',
})
