import { functionReferences, judgeFunction, REFERENCE_KINDS } from '../function-refs.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** Where a function call is stored, not run, when the statement runs (a definition). */
export const DEFERRED: ReadonlySet<string> = new Set([
  'CreateStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'ViewStmt',
  'CreateFunctionStmt',
  'DefineStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'RuleStmt',
  'CreateTrigStmt',
])

/** Triggers have a rule of their own (`create-trigger`); their functions run on writes, recorded for later. */
const TRIGGER_KINDS: ReadonlySet<string> = new Set(['CreateTrigStmt', 'CreateEventTrigStmt'])

/**
 * A call to a function (or use of an operator) that is not a known side-effect-free built-in cannot
 * be shown harmless; neither can an alias that makes such a function callable under another name.
 */
export const unknownFunction = defineRule<Fields>({
  id: 'unknown-function',
  tier: 'cautious',
  kinds: REFERENCE_KINDS,
  check: (node, ctx) => {
    if (TRIGGER_KINDS.has(ctx.nodeType)) return undefined
    const call = ctx.nodeType === 'FuncCall' || ctx.nodeType === 'A_Expr'
    // A call inside a definition runs later: what reads or writes through it is gated then.
    if (call && ctx.ancestors.some((a) => DEFERRED.has(a))) return undefined
    const found: string[] = []
    for (const ref of functionReferences(ctx.nodeType, node)) {
      const judged = judgeFunction(ref, ctx)
      if (judged.kind === 'unknown' || (judged.kind === 'defined' && judged.tier === 'cautious')) {
        // In a function body: a function defined later may answer for it (plpgsql resolves names
        // when it runs). An operator is not looked up again.
        const body = ctx.script.bodyCalls
        if (body !== undefined) {
          if (ref.operator === true) body.other = 'cautious'
          else body.refs.push(ref)
        }
        found.push(
          ref.operator === true
            ? `operator ${ref.name}`
            : ref.via === 'call'
              ? `${ref.name}()`
              : `${ref.name}() (through ${ref.via})`,
        )
      }
    }
    return found
  },
  message: (t) =>
    t.startsWith('operator ')
      ? `${t} is not one of Postgres's built-in operators: it runs a function safe-ddl cannot see.`
      : `${t} is not a known side-effect-free built-in: safe-ddl cannot see what it does when it runs.`,
  hint: 'Define the function in the same script so its body is classified, or review it and run with confirm.',
})
