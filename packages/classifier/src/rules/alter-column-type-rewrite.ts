import type { AlterTableCmd } from '@pgsql/types'
import { columnType, typeChangeRewrites, typeWords } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { utcTimestampChange } from '../old-column-type.js'
import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

function columnDef(cmd: AlterTableCmd): Fields | undefined {
  const def = unwrap(cmd.def)
  return cmd.subtype === 'AT_AlterColumnType' && def?.[0] === 'ColumnDef' ? def[1] : undefined
}

/**
 * ALTER COLUMN ... TYPE that rewrites the table and its indexes under ACCESS EXCLUSIVE. Changes
 * Postgres makes in the catalog alone (varchar(n) to a larger n or to text, dropping a length limit,
 * raising a numeric precision) do not fire; see {@link typeChangeRewrites} for how they are told apart.
 */
export const alterColumnTypeRewrite = defineRule<AlterTableCmd>({
  id: 'alter-column-type-rewrite',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const def = columnDef(cmd)
    // timestamp <-> timestamptz under UTC, old type known: the catalog alone (Postgres 12+).
    if (utcTimestampChange(cmd as unknown as Fields, ctx)) return undefined
    return def !== undefined && typeChangeRewrites(def) && existingRelation(ctx)
      ? `${ctx.relation}.${cmd.name ?? ''}`
      : undefined
  },
  message: (t, cmd) => {
    const def = columnDef(cmd) ?? {}
    const type = columnType(def.typeName)
    const using = def.raw_default !== undefined ? ' USING ...' : ''
    const utc =
      type?.name === 'timestamptz' && using === ''
        ? ' (from timestamp, Postgres 12 and later skip the rewrite only when the session TimeZone is UTC)'
        : ''
    return `ALTER COLUMN ${t} TYPE ${typeWords(type)}${using} rewrites the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends${utc}.`
  },
  hint: '1. Add a new column of the new type. 2. Write to both columns from the app. 3. Backfill the new column in batches. 4. Move reads to the new column and deploy. 5. Stop writing the old column, then drop it. Changes with no rewrite need no recipe: varchar(n) to a larger n or to text, dropping a length limit, raising a numeric precision at the same scale.',
})
