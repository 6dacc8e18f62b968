import { COLUMN_KINDS, columnDefOf, columnFacts } from '../column-facts.js'
import { columnType, typeWords } from '../column-types.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** varchar(n): raising n later takes an ACCESS EXCLUSIVE lock; text with a CHECK does the same job. */
export const preferTextField = defineRule<Fields>({
  id: 'prefer-text-field',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: COLUMN_KINDS,
  check: (node, ctx) => {
    const column = columnFacts(node, ctx)
    return column?.type.name === 'varchar' && column.type.mods.length > 0 ? column.target : undefined
  },
  message: (t, node) =>
    `${t} is ${typeWords(columnType(columnDefOf(node)?.typeName))}: Postgres stores it like text, and raising the limit later takes an ACCESS EXCLUSIVE lock on the table.`,
  hint: (t) =>
    `Use text; if a limit matters, add CHECK (char_length(${t.replace(/.*\./, '')}) <= n), which can later be replaced NOT VALID without a long lock.`,
})
