import type { AlterTableCmd } from '@pgsql/types'
import { addColumnRewrite } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'

/** ADD COLUMN ... GENERATED ALWAYS AS (...) STORED computes every row under ACCESS EXCLUSIVE. */
export const addStoredGeneratedColumn = defineRule<AlterTableCmd>({
  id: 'add-stored-generated-column',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const def = unwrap(cmd.def)
    if (cmd.subtype !== 'AT_AddColumn' || def?.[0] !== 'ColumnDef' || !existingRelation(ctx)) return undefined
    return addColumnRewrite(def[1], ctx.pgVersion)?.kind === 'generated'
      ? `${ctx.relation}.${String(def[1].colname ?? '')}`
      : undefined
  },
  message: (t) =>
    `ADD COLUMN ${t} GENERATED ... STORED computes and writes the value for every row, rewriting the table under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends.`,
  hint: '1. Add a plain column. 2. Fill it for new rows with a BEFORE INSERT OR UPDATE trigger. 3. Backfill existing rows in batches. On Postgres 18 and later, a VIRTUAL generated column needs no rewrite.',
})
