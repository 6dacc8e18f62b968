import type { DropStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { dropObjectNames, objectTypeWords } from './util.js'

const TYPES = new Set(['OBJECT_INDEX', 'OBJECT_STATISTIC_EXT'])

/** DROP INDEX loses no rows, but queries slow down and a unique index stops enforcing uniqueness. */
export const dropIndex = defineRule<DropStmt>({
  id: 'drop-index',
  tier: 'cautious',
  kinds: ['DropStmt'],
  check: (s) => (TYPES.has(String(s.removeType)) ? dropObjectNames(s.objects) : undefined),
  message: (t, s) =>
    `DROP ${objectTypeWords(s.removeType)} ${t} removes it: queries that used it slow down, and a unique index stops enforcing uniqueness.`,
  hint: 'Check pg_stat_user_indexes that it is unused, and use DROP INDEX CONCURRENTLY in its own migration.',
})
