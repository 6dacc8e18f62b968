import type { AlterTableCmd } from '@pgsql/types'
import { columnType, typeWords } from '../column-types.js'
import { unprovenWidening } from '../old-column-type.js'
import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

/**
 * ALTER COLUMN ... TYPE to a type a widening could reach, on a column no script of the run declared:
 * it is a widening (catalog only) or a rewrite, and the statement alone cannot tell.
 */
export const alterColumnTypeUnknownOldType = defineRule<AlterTableCmd>({
  id: 'alter-column-type-unknown-old-type',
  tier: 'safe',
  severity: 'info',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const facts = unprovenWidening(cmd as unknown as Fields, ctx)
    return facts !== undefined && facts.from === undefined ? facts.column : undefined
  },
  message: (t, cmd) => {
    const def = unwrap(cmd.def)
    const to = def?.[0] === 'ColumnDef' ? columnType(def[1].typeName) : undefined
    return `ALTER COLUMN ${t} TYPE ${typeWords(to)}: the old type is not declared in the migrations read, so this may rewrite the table under an ACCESS EXCLUSIVE lock (a narrowing such as varchar(100) to varchar(10) does; a widening such as varchar(10) to varchar(100) or text does not).`
  },
  hint: 'Check the column’s current type (\\d table in psql). Run ddl check over the whole migrations directory so the old type is known. If it narrows, add a new column, backfill it in batches, and switch over.',
})
