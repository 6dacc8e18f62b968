import type { DropStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { dropObjectNames, objectTypeWords } from './util.js'

const TYPES = new Set(['OBJECT_TRIGGER', 'OBJECT_RULE'])

/** DROP TRIGGER / RULE changes what writes do: audit rows, derived columns or guards stop happening. */
export const dropTrigger = defineRule<DropStmt>({
  id: 'drop-trigger',
  tier: 'cautious',
  kinds: ['DropStmt'],
  check: (s) => (TYPES.has(String(s.removeType)) ? dropObjectNames(s.objects) : undefined),
  message: (t, s) =>
    `DROP ${objectTypeWords(s.removeType)} ${t} stops what it did on every write (audit rows, guards, derived values).`,
  hint: 'Make sure nothing relies on it; keep its definition (pg_get_triggerdef) so it can be restored.',
})
