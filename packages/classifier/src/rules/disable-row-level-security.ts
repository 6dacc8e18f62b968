import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_DisableRowSecurity', 'AT_NoForceRowSecurity'])

/** Turning off row-level security opens every row. */
export const disableRowLevelSecurity = defineRule<AlterTableCmd>({
  id: 'disable-row-level-security',
  tier: 'destructive',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) =>
    `ALTER TABLE ${t} turns off row-level security: every role with table access sees and changes every row.`,
  hint: 'Keep RLS on; to change access, change the policies (CREATE/ALTER POLICY) and review them.',
})
