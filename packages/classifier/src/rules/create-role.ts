import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** CREATE/ALTER ROLE changes who can log in and what a login may do. */
export const createRole = defineRule<Fields>({
  id: 'create-role',
  tier: 'cautious',
  kinds: ['CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt'],
  check: (s) => String((s.role as { rolename?: string } | undefined)?.rolename ?? s.role ?? 'role'),
  message: (t) => `CREATE/ALTER ROLE ${t} changes who can log in or what a login can do.`,
  hint: 'Review the role’s attributes and password handling; keep credentials out of SQL files.',
})
