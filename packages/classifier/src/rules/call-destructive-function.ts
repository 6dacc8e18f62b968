import { functionReferences, judgeFunction, REFERENCE_KINDS } from '../function-refs.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'
import { DEFERRED } from './unknown-function.js'

const TRIGGER_KINDS: ReadonlySet<string> = new Set(['CreateTrigStmt', 'CreateEventTrigStmt'])

/**
 * Calling a function whose body (defined earlier in the script) is destructive runs that body; so
 * does an operator, cast or aggregate made of it.
 */
export const callDestructiveFunction = defineRule<Fields>({
  id: 'call-destructive-function',
  tier: 'destructive',
  kinds: REFERENCE_KINDS,
  check: (node, ctx) => {
    if (TRIGGER_KINDS.has(ctx.nodeType)) return undefined
    const call = ctx.nodeType === 'FuncCall' || ctx.nodeType === 'A_Expr'
    if (call && ctx.ancestors.some((a) => DEFERRED.has(a))) return undefined
    const found: string[] = []
    for (const ref of functionReferences(ctx.nodeType, node)) {
      const judged = judgeFunction(ref, ctx)
      if (judged.kind === 'defined' && judged.tier === 'destructive') {
        found.push(
          ref.operator === true
            ? `operator ${ref.name}`
            : ref.via === 'call'
              ? ref.name
              : `${ref.name} (through ${ref.via})`,
        )
      }
    }
    return found
  },
  message: (t) =>
    t.startsWith('operator ')
      ? `${t} was defined in this script on a function with a destructive body; using it runs that body.`
      : `${t}() was defined in this script with a destructive body; calling it runs that body.`,
  hint: 'Read the function body’s findings; run the script with iKnowWhatImDoing only if that is intended.',
})
