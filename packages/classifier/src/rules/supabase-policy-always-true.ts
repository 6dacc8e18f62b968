import { SUPABASE_API_ROLES } from '../profile.js'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName, unwrap } from '../walk.js'

/** True for `true`, `(true)`, `1 = 1` and `'t'::boolean`-free spellings splinter also matches. */
function alwaysTrue(expr: unknown): boolean {
  const w = unwrap(expr)
  if (w === undefined) return false
  if (w[0] === 'A_Const') return (w[1].boolval as { boolval?: boolean } | undefined)?.boolval === true
  if (w[0] === 'A_Expr' && w[1].kind === 'AEXPR_OP') {
    const op = unwrap(Array.isArray(w[1].name) ? w[1].name[0] : undefined)?.[1].sval
    const l = unwrap(w[1].lexpr)
    const r = unwrap(w[1].rexpr)
    const ival = (x: typeof l) =>
      x?.[0] === 'A_Const' ? (x[1].ival as { ival?: number } | undefined)?.ival : undefined
    return op === '=' && l !== undefined && r !== undefined && ival(l) !== undefined && ival(l) === ival(r)
  }
  return false
}

/** The API roles a policy applies to: named ones, or both when it is for PUBLIC (or names no role). */
function apiRoles(s: Fields): string[] {
  const roles = Array.isArray(s.roles) ? s.roles : []
  if (roles.length === 0) return [...SUPABASE_API_ROLES]
  const out = new Set<string>()
  for (const r of roles) {
    const w = unwrap(r)
    if (w?.[0] !== 'RoleSpec') continue
    if (w[1].roletype === 'ROLESPEC_PUBLIC') for (const role of SUPABASE_API_ROLES) out.add(role)
    else if (typeof w[1].rolename === 'string' && SUPABASE_API_ROLES.has(w[1].rolename)) out.add(w[1].rolename)
  }
  return [...out]
}

const WRITES = new Set(['insert', 'update', 'delete', 'all'])

/** What check() found, for the message. */
const facts = new WeakMap<object, { roles: string[]; clause: string }>()

/**
 * Supabase profile (splinter `rls_policy_always_true`): a write policy whose USING or WITH CHECK is
 * always true for `anon` or `authenticated` lets every API caller change every row.
 */
export const supabasePolicyAlwaysTrue = defineRule<Fields>({
  id: 'supabase-policy-always-true',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['CreatePolicyStmt', 'AlterPolicyStmt'],
  check: (s, ctx) => {
    if (ctx.script.profile !== 'supabase') return undefined
    const cmd = typeof s.cmd_name === 'string' ? s.cmd_name : 'all'
    if (!WRITES.has(cmd)) return undefined
    const roles = apiRoles(s)
    if (roles.length === 0) return undefined
    const using = cmd !== 'insert' && alwaysTrue(s.qual)
    const check = cmd !== 'delete' && alwaysTrue(s.with_check)
    if (!using && !check) return undefined
    facts.set(s, { roles, clause: using ? 'USING (true)' : 'WITH CHECK (true)' })
    return `${String(s.policy_name ?? '')} on ${rangeVarName(s.table)}`
  },
  message: (t, s) => {
    const f = facts.get(s)
    const cmd = String(s.cmd_name ?? 'all').toUpperCase()
    return `Policy ${t} is ${f?.clause ?? 'always true'} for ${cmd} to ${(f?.roles ?? []).join(' and ')}: every API caller with that role can ${cmd === 'INSERT' ? 'insert any row' : 'change or delete every row'}, as if row level security were off.`
  },
  hint: 'Compare the row with the caller, e.g. USING ((select auth.uid()) = user_id) WITH CHECK ((select auth.uid()) = user_id); keep (true) only for SELECT of public data, or for the service_role.',
})
