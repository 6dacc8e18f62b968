import type { RenameStmt } from '@pgsql/types'
import { createdInScript } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'

/** Renaming a column breaks every client that still reads or writes the old name. */
export const renameColumn = defineRule<RenameStmt>({
  id: 'rename-column',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['RenameStmt'],
  check: (s, ctx) => {
    if (s.renameType !== 'OBJECT_COLUMN' || s.relationType === 'OBJECT_TYPE') return undefined
    const table = rangeVarName(s.relation)
    return createdInScript(ctx.script.hazards, table) ? undefined : `${table}.${s.subname ?? ''}`
  },
  message: (t, s) =>
    `RENAME COLUMN ${t} TO ${s.newname ?? ''}: every running client that still reads or writes ${s.subname ?? 'the column'} fails from the moment it commits.`,
  hint: (t, s) => {
    const table = t.slice(0, t.lastIndexOf('.'))
    const next = s.newname ?? 'new_name'
    return `1. ALTER TABLE ${table} ADD COLUMN ${next} (same type). 2. Write to both columns from the app and deploy. 3. Backfill ${next} in batches. 4. Move reads to ${next} and deploy. 5. Stop writing ${s.subname ?? 'the old column'}, then drop it.`
  },
})
