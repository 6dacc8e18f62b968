import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** ALTER SYSTEM rewrites the configuration of the whole server. */
export const alterSystem = defineRule<Fields>({
  id: 'alter-system',
  tier: 'destructive',
  kinds: ['AlterSystemStmt'],
  check: () => 'postgresql.auto.conf',
  message: (t) => `ALTER SYSTEM rewrites the server configuration (${t}) for every database on the server.`,
  hint: 'Change server settings through your platform’s configuration, reviewed, not from application SQL.',
})
