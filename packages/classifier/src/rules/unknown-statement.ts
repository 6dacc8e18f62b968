import { defineRule } from '../rule.js'

/** A statement kind (or shape) no rule maps fails closed. */
export const unknownStatement = defineRule({
  id: 'unknown-statement',
  tier: 'destructive',
  kinds: [],
  check: () => true,
  message: (t) => `safe-ddl has no rule for ${t}, so it cannot show that it is harmless.`,
  hint: 'Review the statement by hand; if it is harmless, report the statement kind so a rule can cover it.',
})
