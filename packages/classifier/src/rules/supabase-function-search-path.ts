import { SUPABASE_EXPOSED_SCHEMAS, schemaOf } from '../profile.js'
import { defineRule } from '../rule.js'
import { type Fields, nameOf, unwrap } from '../walk.js'
import { defElem, defElemTruthy } from './util.js'

/** True when the function's options hold `SET search_path = ...` (not FROM CURRENT). */
function fixesSearchPath(options: unknown): boolean {
  for (const o of Array.isArray(options) ? options : []) {
    const w = unwrap(o)
    if (w?.[0] !== 'DefElem' || w[1].defname !== 'set') continue
    const set = unwrap(w[1].arg)
    if (set?.[0] === 'VariableSetStmt' && set[1].name === 'search_path' && set[1].kind === 'VAR_SET_VALUE') return true
  }
  return false
}

/**
 * Supabase profile (splinter `function_search_path_mutable`, for SECURITY DEFINER): a definer function
 * in an exposed schema that does not fix its search_path resolves names through the caller's path.
 */
export const supabaseFunctionSearchPath = defineRule<Fields>({
  id: 'supabase-function-search-path',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['CreateFunctionStmt'],
  check: (s, ctx) => {
    if (ctx.script.profile !== 'supabase') return undefined
    if (!defElemTruthy(defElem(s.options, 'security'))) return undefined
    const name = nameOf(s.funcname)
    if (!SUPABASE_EXPOSED_SCHEMAS.has(schemaOf(name)) || fixesSearchPath(s.options)) return undefined
    return name
  },
  message: (t) =>
    `SECURITY DEFINER function ${t} is in an exposed schema and does not fix its search_path: a caller who can create objects earlier on the path can make it run their code with the owner's privileges.`,
  hint: "Add SET search_path = '' to the function and schema-qualify every name in its body (public.profiles, auth.uid()).",
})
