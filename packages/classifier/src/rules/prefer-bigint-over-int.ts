import { COLUMN_KINDS, columnFacts } from '../column-facts.js'
import { columnConstraints } from '../column-types.js'
import { defineRule } from '../rule.js'
import { type Fields, nameOf, unwrap } from '../walk.js'

const SMALL = new Set(['int2', 'int4', 'serial', 'serial4', 'smallserial', 'serial2'])
const SERIAL = new Set(['serial', 'serial4', 'smallserial', 'serial2'])

/** Columns named by a table-level PRIMARY KEY in the CREATE TABLE around this column. */
function tablePrimaryKey(table: Fields): string[] {
  const out: string[] = []
  for (const element of Array.isArray(table.tableElts) ? table.tableElts : []) {
    const w = unwrap(element)
    if (w?.[0] === 'Constraint' && w[1].contype === 'CONSTR_PRIMARY') {
      for (const key of Array.isArray(w[1].keys) ? w[1].keys : []) out.push(nameOf([key]))
    }
  }
  return out
}

/** A key (primary key, identity, serial) of int or smallint runs out and is costly to widen later. */
export const preferBigintOverInt = defineRule<Fields>({
  id: 'prefer-bigint-over-int',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: [...COLUMN_KINDS, 'CreateStmt'],
  check: (node, ctx) => {
    if (Array.isArray(node.tableElts)) {
      // Table-level PRIMARY KEY (a, b): the columns are ColumnDefs of this statement.
      const keys = tablePrimaryKey(node)
      const out: string[] = []
      for (const element of Array.isArray(node.tableElts) ? node.tableElts : []) {
        const w = unwrap(element)
        if (w?.[0] !== 'ColumnDef' || !keys.includes(String(w[1].colname))) continue
        const column = columnFacts(w[1], ctx)
        if (column !== undefined && SMALL.has(column.type.name) && !SERIAL.has(column.type.name))
          out.push(column.target)
      }
      return out
    }
    const column = columnFacts(node, ctx)
    if (column === undefined || !SMALL.has(column.type.name)) return undefined
    const key =
      SERIAL.has(column.type.name) ||
      columnConstraints(column.def).some((c) => c.contype === 'CONSTR_PRIMARY' || c.contype === 'CONSTR_IDENTITY')
    return key ? column.target : undefined
  },
  message: (t) =>
    `${t} is a key of int or smallint: it runs out at 2,147,483,647 (32,767 for smallint), and widening it later rewrites the table and every table that references it.`,
  hint: 'Use bigint for keys (bigint GENERATED ALWAYS AS IDENTITY, or bigserial).',
})
