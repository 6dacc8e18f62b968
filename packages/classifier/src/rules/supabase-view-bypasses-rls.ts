import { relationKey } from '../locks.js'
import { SUPABASE_EXPOSED_SCHEMAS, schemaOf } from '../profile.js'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName, walk } from '../walk.js'
import { defElem, defElemTruthy } from './util.js'

/** What check() found, for the message: the RLS tables the view reads. */
const readsOf = new WeakMap<object, string[]>()

/**
 * Supabase profile (splinter `security_definer_view`): a view in an exposed schema without
 * `security_invoker` runs with its owner's rights, so it reads RLS tables past their policies.
 */
export const supabaseViewBypassesRls = defineRule<Fields>({
  id: 'supabase-view-bypasses-rls',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['ViewStmt'],
  check: (s, ctx) => {
    if (ctx.script.profile !== 'supabase') return undefined
    const name = rangeVarName(s.view)
    if (!SUPABASE_EXPOSED_SCHEMAS.has(schemaOf(name))) return undefined
    if (defElemTruthy(defElem(s.options, 'security_invoker'))) return undefined
    const tables = new Set<string>()
    walk(s.query, (type, node) => {
      if (type !== 'RangeVar') return undefined
      const rel = rangeVarName(node)
      if (ctx.script.history.tables.get(relationKey(rel))?.rls === true) tables.add(rel)
      return undefined
    })
    if (tables.size === 0) return undefined
    readsOf.set(s, [...tables])
    return name
  },
  message: (t, s) =>
    `View ${t} is in an exposed schema and is not security_invoker: it reads ${(readsOf.get(s) ?? []).join(', ')} with its owner's rights, so API callers see rows the tables' RLS policies hide.`,
  hint: 'Create it WITH (security_invoker = true) (Postgres 15 and later), or ALTER VIEW ... SET (security_invoker = true); on older servers, revoke SELECT on it from anon and authenticated.',
})
