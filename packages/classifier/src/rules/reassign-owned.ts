import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'
import { roleNames } from './roles.js'

/** REASSIGN OWNED hands every object of a role to another role. */
export const reassignOwned = defineRule<Fields>({
  id: 'reassign-owned',
  tier: 'destructive',
  kinds: ['ReassignOwnedStmt'],
  check: (s) => roleNames(s.roles),
  message: (t) => `REASSIGN OWNED hands every object of ${t} to another role, with full control over them.`,
  hint: 'List the objects and confirm the new owner is meant to control all of them.',
})
