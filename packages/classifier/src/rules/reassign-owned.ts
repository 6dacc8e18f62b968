import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/**  */
export const reassignOwned = defineRule<Fields>({
  id: 'reassign-owned',
  tier: 'destructive',
  kinds: ['ReassignOwnedStmt'],
  check: () => true,
  message: (t) => `REASSIGN OWNED hands every object of ${t} to another role, with full control over them.`,
  hint: 'List the objects and confirm the new owner is meant to control all of them.',
})
