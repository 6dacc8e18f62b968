import type { RenameStmt } from '@pgsql/types'
import { createdInScript } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'

const RELATIONS: Record<string, string> = {
  OBJECT_TABLE: 'TABLE',
  OBJECT_VIEW: 'VIEW',
  OBJECT_MATVIEW: 'MATERIALIZED VIEW',
  OBJECT_FOREIGN_TABLE: 'FOREIGN TABLE',
}

/** Renaming a table breaks every client that still uses the old name. */
export const renameTable = defineRule<RenameStmt>({
  id: 'rename-table',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['RenameStmt'],
  check: (s, ctx) => {
    if (RELATIONS[String(s.renameType)] === undefined) return undefined
    const name = rangeVarName(s.relation)
    return createdInScript(ctx.script.hazards, name) ? undefined : name
  },
  message: (t, s) =>
    `ALTER ${RELATIONS[String(s.renameType)] ?? 'TABLE'} ${t} RENAME TO ${s.newname ?? ''}: every running client that still uses ${t} fails from the moment it commits.`,
  hint: (t, s) => {
    const next = s.newname ?? 'new_name'
    return `1. In one migration, rename and leave a view under the old name: ALTER TABLE ${t} RENAME TO ${next}; CREATE VIEW ${t} AS SELECT * FROM ${next}; (a simple view accepts reads and writes). 2. Switch the app to ${next} and deploy. 3. Drop the view ${t} once nothing uses it.`
  },
})
