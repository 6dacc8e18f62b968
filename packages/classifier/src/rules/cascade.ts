import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** CASCADE reaches past the named object: every dependent object goes too. */
export const cascade = defineRule<Fields>({
  id: 'cascade',
  tier: 'destructive',
  kinds: ['DropStmt', 'TruncateStmt', 'AlterTableCmd', 'DropOwnedStmt', 'AlterDomainStmt'],
  check: (n) => n.behavior === 'DROP_CASCADE',
  message: (t) =>
    `CASCADE also drops or empties everything that depends on ${t} (views, foreign keys, other tables' rows).`,
  hint: 'Drop without CASCADE: Postgres then lists the dependents; handle each one on purpose. Rehearse to see them.',
})
