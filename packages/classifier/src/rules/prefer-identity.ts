import { COLUMN_KINDS, columnDefOf, columnFacts } from '../column-facts.js'
import { columnType, SERIAL_TYPES } from '../column-types.js'
import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** serial: a sequence with its own owner and grants, and a default any INSERT may override. */
export const preferIdentity = defineRule<Fields>({
  id: 'prefer-identity',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: COLUMN_KINDS,
  check: (node, ctx) => {
    const column = columnFacts(node, ctx)
    return column !== undefined && SERIAL_TYPES.has(column.type.name) ? column.target : undefined
  },
  message: (t, node) =>
    `${t} is ${typeName(node)}: its sequence is a separate object with its own owner and grants, and an INSERT may write any value past it.`,
  hint: 'Use bigint GENERATED ALWAYS AS IDENTITY (or BY DEFAULT when rows are loaded with their ids).',
})

function typeName(node: Fields): string {
  return columnType(columnDefOf(node)?.typeName)?.name ?? 'serial'
}
