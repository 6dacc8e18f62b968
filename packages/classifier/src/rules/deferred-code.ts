import { reachedCode } from '../deferred-code.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/**
 * A statement that reads or writes through code an earlier statement of the script stored: a view
 * over a function, a DEFAULT or CHECK, a domain, a trigger, a rule, a policy, an event trigger. The
 * statement gets the tier of that code, as if it called it (it does).
 */
export const deferredCode = defineRule<Fields>({
  id: 'deferred-code',
  tier: 'cautious',
  kinds: ['RangeVar', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt', 'TruncateStmt', 'TypeCast'],
  check: (node, ctx) => reachedCode(ctx.nodeType, node, ctx),
  message: (t) => `This runs code defined earlier in the script (${t}).`,
  hint: 'Review what that code does (its own findings are listed where it was defined); run with the flag its tier needs.',
})
