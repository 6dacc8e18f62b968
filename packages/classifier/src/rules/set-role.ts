import type { VariableSetStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'

/** SET ROLE / SET SESSION AUTHORIZATION change whose privileges the following statements use. */
export const setRole = defineRule<VariableSetStmt>({
  id: 'set-role',
  tier: 'cautious',
  kinds: ['VariableSetStmt'],
  check: (s) => {
    const name = String(s.name ?? '').toLowerCase()
    return name === 'role' || name === 'session_authorization' ? name.replace('_', ' ') : undefined
  },
  message: (t) => `SET ${t.toUpperCase()} switches to another role’s privileges for what follows.`,
  hint: 'Connect as the role that should run the change instead of switching inside SQL.',
})
