import type { DropStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { dropObjectNames, objectTypeWords } from './util.js'

const TYPES = new Set(['OBJECT_TABLE', 'OBJECT_FOREIGN_TABLE', 'OBJECT_MATVIEW', 'OBJECT_VIEW'])

/** DROP TABLE deletes a table and every row in it. */
export const dropTable = defineRule<DropStmt>({
  id: 'drop-table',
  tier: 'destructive',
  kinds: ['DropStmt'],
  check: (s) => (TYPES.has(String(s.removeType)) ? dropObjectNames(s.objects) : undefined),
  message: (t, s) =>
    s.removeType === 'OBJECT_TABLE'
      ? `DROP TABLE ${t} deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.`
      : `DROP ${objectTypeWords(s.removeType)} ${t} deletes it, with its grants and everything that reads it.`,
  hint: (t) =>
    `1. Stop using \`${t}\` in the app and deploy. 2. Rename it to \`${t}_retired\` and wait a release. 3. Back it up, then drop it.`,
})
