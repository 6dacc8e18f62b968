import type { FuncCall } from '@pgsql/types'
import { functionKey } from '../functions.js'
import { defineRule } from '../rule.js'
import { lastName, nameOf } from '../walk.js'

/** Calling a function whose body (defined earlier in the script) is destructive runs that body. */
export const callDestructiveFunction = defineRule<FuncCall>({
  id: 'call-destructive-function',
  tier: 'destructive',
  kinds: ['FuncCall'],
  check: (call, ctx) =>
    ctx.script.functions.get(functionKey(lastName(call.funcname))) === 'destructive'
      ? nameOf(call.funcname)
      : undefined,
  message: (t) => `${t}() was defined in this script with a destructive body; calling it runs that body.`,
  hint: 'Read the function body’s findings; run the script with iKnowWhatImDoing only if that is intended.',
})
