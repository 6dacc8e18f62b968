import type { RenameStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'

/** Renaming a schema breaks every client that names it or finds it through search_path. */
export const renameSchema = defineRule<RenameStmt>({
  id: 'rename-schema',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['RenameStmt'],
  check: (s) => (s.renameType === 'OBJECT_SCHEMA' ? (s.subname ?? '') : undefined),
  message: (t, s) =>
    `ALTER SCHEMA ${t} RENAME TO ${s.newname ?? ''}: every running client that names ${t}, or finds its tables through search_path, fails from the moment it commits.`,
  hint: (t, s) => {
    const next = s.newname ?? 'new_schema'
    return `1. CREATE SCHEMA ${next}. 2. For each table, in one migration: ALTER TABLE ${t}.x SET SCHEMA ${next}; CREATE VIEW ${t}.x AS SELECT * FROM ${next}.x; (a simple view accepts reads and writes). 3. Switch the app (and search_path) to ${next} and deploy. 4. Drop the views and the schema ${t} once nothing uses them.`
  },
})
