import { COLUMN_KINDS, columnDefOf, columnFacts } from '../column-facts.js'
import { columnType, typeWords } from '../column-types.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** char(n) pads values with spaces and is no faster than text; text with a CHECK does the same job. */
export const banCharField = defineRule<Fields>({
  id: 'ban-char-field',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: COLUMN_KINDS,
  check: (node, ctx) => {
    const column = columnFacts(node, ctx)
    return column?.type.name === 'bpchar' ? column.target : undefined
  },
  message: (t, node) =>
    `${t} is ${typeWords(columnType(columnDefOf(node)?.typeName))}: Postgres pads every value with spaces to the full length, ignores trailing spaces when comparing, and stores it no more compactly than text.`,
  hint: (t) =>
    `Use text; if the length matters, add CHECK (char_length(${t.replace(/.*\./, '')}) = n) (or <= n), which can later be replaced NOT VALID without a long lock.`,
})
