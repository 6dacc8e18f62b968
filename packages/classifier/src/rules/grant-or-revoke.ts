import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** GRANT and REVOKE change who can read or change data. */
export const grantOrRevoke = defineRule<Fields>({
  id: 'grant-or-revoke',
  tier: 'cautious',
  kinds: ['GrantStmt', 'GrantRoleStmt', 'AlterDefaultPrivilegesStmt'],
  check: () => true,
  message: (t) => `GRANT/REVOKE changes who can read or change data (${t}).`,
  hint: 'Review the privileges it gives or takes; grant the least a role needs, to a role, not to PUBLIC.',
})
