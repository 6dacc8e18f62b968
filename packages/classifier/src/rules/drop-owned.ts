import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'
import { roleNames } from './roles.js'

/** DROP OWNED deletes every object a role owns in the database. */
export const dropOwned = defineRule<Fields>({
  id: 'drop-owned',
  tier: 'destructive',
  kinds: ['DropOwnedStmt'],
  check: (s) => roleNames(s.roles),
  message: (t) => `DROP OWNED BY ${t} deletes every object the role owns in this database, tables and rows included.`,
  hint: 'List what the role owns first; REASSIGN OWNED to a keeper role, then DROP OWNED only revokes privileges.',
})
