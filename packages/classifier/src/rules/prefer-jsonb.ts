import { COLUMN_KINDS, columnFacts } from '../column-facts.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** json stores text: reparsed on every access, no GIN index, no equality operator. */
export const preferJsonb = defineRule<Fields>({
  id: 'prefer-jsonb',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: COLUMN_KINDS,
  check: (node, ctx) => {
    const column = columnFacts(node, ctx)
    return column?.type.name === 'json' ? column.target : undefined
  },
  message: (t) =>
    `${t} is json: it is stored as text and parsed again on every access, it cannot have a GIN index, and it has no equality operator, so SELECT DISTINCT and GROUP BY on it fail.`,
  hint: 'Use jsonb.',
})
