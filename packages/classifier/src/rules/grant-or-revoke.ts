import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'
import { roleNames } from './roles.js'

/** GRANT or REVOKE of a statement (ALTER DEFAULT PRIVILEGES holds one as its action). */
function isGrant(node: Fields): boolean {
  const action = node.action as Fields | undefined
  return (action ?? node).is_grant === true
}

/** GRANT and REVOKE change who can read or change data. */
export const grantOrRevoke = defineRule<Fields>({
  id: 'grant-or-revoke',
  tier: 'cautious',
  kinds: ['GrantStmt', 'GrantRoleStmt', 'AlterDefaultPrivilegesStmt'],
  check: (node, ctx) => {
    // ALTER DEFAULT PRIVILEGES holds its GRANT as a node: reported once, on the statement.
    if (ctx.nodeType === 'GrantStmt' && ctx.ancestors.includes('AlterDefaultPrivilegesStmt')) return undefined
    const action = (node.action as Fields | undefined) ?? node
    const who = roleNames(action.grantees ?? action.grantee_roles)
    const defaults = node.action !== undefined ? ' (default privileges)' : ''
    return isGrant(node) ? `GRANT${defaults} ... TO ${who}` : `REVOKE${defaults} ... FROM ${who}`
  },
  message: (t) =>
    t.startsWith('GRANT')
      ? `${t}: gives privileges, so more roles can read or change data.`
      : `${t}: takes privileges away; nothing is deleted, but clients using them start failing.`,
  hint: 'Review the privileges it gives or takes; grant the least a role needs, to a role, not to PUBLIC.',
})
