import type { DropStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { dropObjectNames } from './util.js'

/** DROP SCHEMA deletes a namespace and, with CASCADE, every object in it. */
export const dropSchema = defineRule<DropStmt>({
  id: 'drop-schema',
  tier: 'destructive',
  kinds: ['DropStmt'],
  check: (s) => (s.removeType === 'OBJECT_SCHEMA' ? dropObjectNames(s.objects) : undefined),
  message: (t) => `DROP SCHEMA ${t} deletes the schema and its grants; with CASCADE, every table and row in it.`,
  hint: (t) => `Back up \`${t}\` (pg_dump -n ${t}), drop its objects one by one, then the empty schema.`,
})
