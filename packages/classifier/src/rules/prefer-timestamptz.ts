import { COLUMN_KINDS, columnFacts } from '../column-facts.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** timestamp without time zone: values lose their offset, and converting later rewrites the table. */
export const preferTimestamptz = defineRule<Fields>({
  id: 'prefer-timestamptz',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: COLUMN_KINDS,
  check: (node, ctx) => {
    const column = columnFacts(node, ctx)
    return column?.type.name === 'timestamp' ? column.target : undefined
  },
  message: (t) =>
    `${t} is timestamp without time zone: a value does not say which zone it is in, and converting the column to timestamptz later rewrites the table.`,
  hint: 'Use timestamptz: it stores an instant and shows it in the session time zone.',
})
