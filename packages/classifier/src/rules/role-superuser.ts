import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'
import { defElem, defElemTruthy } from './util.js'

const POWERS = ['superuser', 'bypassrls', 'replication', 'createrole', 'isreplication']

function grantedPowers(options: unknown): string[] {
  return POWERS.filter((p) => defElemTruthy(defElem(options, p)))
}

/** CREATE/ALTER ROLE granting SUPERUSER, BYPASSRLS, REPLICATION or CREATEROLE hands over the server. */
export const roleSuperuser = defineRule<Fields>({
  id: 'role-superuser',
  tier: 'destructive',
  kinds: ['CreateRoleStmt', 'AlterRoleStmt'],
  check: (s) => {
    const powers = grantedPowers(s.options)
    if (powers.length === 0) return undefined
    const role = (s.role as { rolename?: string } | undefined)?.rolename ?? String(s.role ?? 'role')
    return `${role} (${powers.map((p) => p.toUpperCase()).join(', ')})`
  },
  message: (t) => `Role ${t} gets powers that bypass every permission or row-level policy.`,
  hint: 'Grant the specific privileges the role needs instead; superuser and BYPASSRLS stay with operators.',
})
