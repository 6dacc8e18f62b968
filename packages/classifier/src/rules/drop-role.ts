import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** DROP ROLE removes a login and its privileges. */
export const dropRole = defineRule<Fields>({
  id: 'drop-role',
  tier: 'destructive',
  kinds: ['DropRoleStmt'],
  check: (s) =>
    Array.isArray(s.roles)
      ? s.roles.map((r) => String((r as { RoleSpec?: { rolename?: string } }).RoleSpec?.rolename ?? 'role'))
      : true,
  message: (t) => `DROP ROLE ${t} removes a login and its privileges; apps and people using it are locked out.`,
  hint: 'Check who uses the role (pg_stat_activity, app config); revoke its privileges first, then drop it.',
})
