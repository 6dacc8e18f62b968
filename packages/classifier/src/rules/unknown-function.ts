import type { FuncCall } from '@pgsql/types'
import { DANGEROUS_FUNCTIONS, functionKey, SAFE_FUNCTIONS } from '../functions.js'
import { defineRule } from '../rule.js'
import { lastName, nameOf } from '../walk.js'

/** Where a function call is stored, not run, when the statement runs. */
const DEFERRED = new Set([
  'CreateStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'ViewStmt',
  'CreateFunctionStmt',
  'DefineStmt',
])

/** A call to a function that is not a known side-effect-free built-in cannot be shown harmless. */
export const unknownFunction = defineRule<FuncCall>({
  id: 'unknown-function',
  tier: 'cautious',
  kinds: ['FuncCall'],
  check: (call, ctx) => {
    const key = functionKey(lastName(call.funcname))
    if (DANGEROUS_FUNCTIONS.has(key) || key === 'set_config') return undefined
    // A built-in is only the built-in when unqualified or qualified with pg_catalog: `public.lower()` is someone's code.
    const schema = (call.funcname?.length ?? 0) > 1 ? functionKey(nameOf(call.funcname?.slice(0, -1))) : 'pg_catalog'
    if (SAFE_FUNCTIONS.has(key) && schema === 'pg_catalog') return undefined
    if (ctx.ancestors.some((a) => DEFERRED.has(a))) return undefined
    const defined = ctx.script.functions.get(key)
    if (defined === 'safe') return undefined
    if (defined === 'destructive') return undefined // call-destructive-function reports it
    return nameOf(call.funcname)
  },
  message: (t) => `${t}() is not a known side-effect-free built-in: safe-ddl cannot see what it does when it runs.`,
  hint: 'Define the function in the same script so its body is classified, or review it and run with confirm.',
})
