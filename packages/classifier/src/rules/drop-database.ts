import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** DROP DATABASE deletes every schema, table and row in it. */
export const dropDatabase = defineRule<Fields>({
  id: 'drop-database',
  tier: 'destructive',
  kinds: ['DropdbStmt'],
  check: (s) => String(s.dbname ?? ''),
  message: (t) => `DROP DATABASE ${t} deletes the whole database: every schema, table and row.`,
  hint: 'Take a full backup (pg_dump -Fc), confirm nothing connects to it, and drop it by hand as an operator.',
})
