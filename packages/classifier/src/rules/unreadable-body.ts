import { defineRule } from '../rule.js'

/** A function or DO body in a language safe-ddl cannot read (C, untrusted PLs), or one that does not parse. */
export const unreadableBody = defineRule({
  id: 'unreadable-body',
  tier: 'destructive',
  kinds: [],
  check: () => undefined,
  message: (t) => `The body of ${t} cannot be read, so nothing shows it is harmless.`,
  hint: 'Write the body in SQL or PL/pgSQL with static statements so each one is classified, or review it by hand.',
})
