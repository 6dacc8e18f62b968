import type { AlterTableCmd } from '@pgsql/types'
import { columnType, typeWords } from '../column-types.js'
import { isCatalogOnlyChange, unprovenWidening } from '../old-column-type.js'
import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

function newType(cmd: AlterTableCmd) {
  const def = unwrap(cmd.def)
  return def?.[0] === 'ColumnDef' ? columnType(def[1].typeName) : undefined
}

/** What check() read from the history for the message: the old type. */
const oldTypes = new WeakMap<object, string>()

/**
 * ALTER COLUMN ... TYPE to a type a widening could reach, where an earlier migration shows the old
 * type and the change is not a widening (`varchar(100)` to `varchar(10)`): the table is rewritten.
 */
export const alterColumnTypeNarrowing = defineRule<AlterTableCmd>({
  id: 'alter-column-type-narrowing',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const facts = unprovenWidening(cmd as unknown as Fields, ctx)
    const to = newType(cmd)
    if (facts?.from === undefined || to === undefined || isCatalogOnlyChange(facts.from, to)) return undefined
    oldTypes.set(cmd, typeWords(facts.from))
    return facts.column
  },
  message: (t, cmd) =>
    `ALTER COLUMN ${t} TYPE ${typeWords(newType(cmd))} changes it from ${oldTypes.get(cmd) ?? 'its old type'} (declared by an earlier statement or migration): not a widening, so Postgres checks or converts every value and rewrites the table and its indexes under an ACCESS EXCLUSIVE lock; reads and writes wait until it ends.`,
  hint: '1. Add a new column of the new type. 2. Write to both columns from the app. 3. Backfill the new column in batches, checking the values fit. 4. Move reads to the new column and deploy. 5. Stop writing the old column, then drop it.',
})
