import { freshTable } from '../fresh-objects.js'
import { definedFunctionTier } from '../function-refs.js'
import { defineRule } from '../rule.js'
import { type Fields, nameOf, rangeVarName } from '../walk.js'

/** CREATE TRIGGER runs a function on every matching write; safe only when that function was shown harmless in the script. */
export const createTrigger = defineRule<Fields>({
  id: 'create-trigger',
  tier: 'cautious',
  kinds: ['CreateTrigStmt'],
  check: (s, ctx) => {
    // On a table this script created, the trigger changes nothing that ran before; the writes that
    // fire it later in the script carry its function's tier (deferred-code).
    if (freshTable(ctx.script, rangeVarName(s.relation))) return undefined
    // A trigger function takes no declared arguments.
    const tier = definedFunctionTier(ctx.script, { name: nameOf(s.funcname), args: 0 })
    return tier === 'safe' ? undefined : String(s.trigname ?? 'trigger')
  },
  message: (t) =>
    `CREATE TRIGGER ${t} runs a function on every matching write from now on, and that function was not shown harmless in this script.`,
  hint: 'Define the trigger function in the same script so its body is classified, or review it and run with confirm.',
})
