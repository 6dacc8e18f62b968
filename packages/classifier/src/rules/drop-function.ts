import type { DropStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { dropObjectNames, objectTypeWords } from './util.js'

const TYPES = new Set(['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE', 'OBJECT_AGGREGATE'])

/** DROP FUNCTION breaks every caller, trigger and default that uses it. */
export const dropFunction = defineRule<DropStmt>({
  id: 'drop-function',
  tier: 'destructive',
  kinds: ['DropStmt'],
  check: (s) => (TYPES.has(String(s.removeType)) ? dropObjectNames(s.objects) : undefined),
  message: (t, s) =>
    `DROP ${objectTypeWords(s.removeType)} ${t} deletes its code; callers, triggers and defaults that use it start failing.`,
  hint: (t) => `Find its users first (pg_depend, grep the app for ${t}); remove them, deploy, then drop it.`,
})
