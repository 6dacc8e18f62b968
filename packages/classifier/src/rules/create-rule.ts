import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** CREATE RULE rewrites future queries on a table (its actions are classified as statements). */
export const createRule = defineRule<Fields>({
  id: 'create-rule',
  tier: 'cautious',
  kinds: ['RuleStmt'],
  check: (s) => String(s.rulename ?? 'rule'),
  message: (t) =>
    `CREATE RULE ${t} rewrites every matching query on the table from now on (its actions are classified too).`,
  hint: 'Prefer a trigger or a view; if a rule is needed, review its actions and test writes in a rehearsal.',
})
