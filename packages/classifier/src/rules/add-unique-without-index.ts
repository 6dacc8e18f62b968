import type { AlterTableCmd } from '@pgsql/types'
import { columnConstraints } from '../column-types.js'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { type Fields, nameOf, unwrap } from '../walk.js'

const KEYS = new Set(['CONSTR_PRIMARY', 'CONSTR_UNIQUE'])

/** The PRIMARY KEY or UNIQUE constraint whose index the action builds, with the columns it covers. */
function keyOf(cmd: AlterTableCmd): { con: Fields; columns: string } | undefined {
  const def = unwrap(cmd.def)
  if (cmd.subtype === 'AT_AddConstraint' && def?.[0] === 'Constraint') {
    const con = def[1]
    if (!KEYS.has(String(con.contype)) || con.indexname !== undefined) return undefined
    const keys = Array.isArray(con.keys) ? con.keys : []
    return { con, columns: keys.map((k) => nameOf([k])).join(', ') }
  }
  if (cmd.subtype === 'AT_AddColumn' && def?.[0] === 'ColumnDef') {
    const con = columnConstraints(def[1]).find((c) => KEYS.has(String(c.contype)))
    return con === undefined ? undefined : { con, columns: String(def[1].colname ?? '') }
  }
  return undefined
}

function words(t: string, cmd: AlterTableCmd): { kind: string; name: string; index: string; columns: string } {
  const key = keyOf(cmd)
  const primary = key?.con.contype === 'CONSTR_PRIMARY'
  const table = t.replace(/.*\./, '')
  const name = typeof key?.con.conname === 'string' ? key.con.conname : `${table}_${primary ? 'pkey' : 'key'}`
  return { kind: primary ? 'PRIMARY KEY' : 'UNIQUE', name, index: `${name}_idx`, columns: key?.columns ?? '...' }
}

/** ADD PRIMARY KEY / UNIQUE builds its index under ACCESS EXCLUSIVE unless given one (USING INDEX). */
export const addUniqueWithoutIndex = defineRule<AlterTableCmd>({
  id: 'add-unique-without-index',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (keyOf(cmd) !== undefined && existingRelation(ctx) ? ctx.relation : undefined),
  message: (t, cmd) => {
    const w = words(t, cmd)
    return `ADD ${cmd.subtype === 'AT_AddColumn' ? `COLUMN ${w.columns} ${w.kind}` : `CONSTRAINT ${w.name} ${w.kind}`} builds a unique index on ${t} under an ACCESS EXCLUSIVE lock: reads and writes of ${t} wait until the build ends.`
  },
  hint: (t, cmd) => {
    const w = words(t, cmd)
    const notNull =
      w.kind === 'PRIMARY KEY'
        ? ` 3. Make ${w.columns} NOT NULL first the safe way (see set-not-null-without-check), or step 2 reads every row for NULLs under the lock.`
        : ''
    return `1. CREATE UNIQUE INDEX CONCURRENTLY ${w.index} ON ${t} (${w.columns}) in a migration of its own. 2. ALTER TABLE ${t} ADD CONSTRAINT ${w.name} ${w.kind} USING INDEX ${w.index}: it takes the lock only to attach the index.${notNull}`
  },
})
