import type { DropStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { dropObjectNames, objectTypeWords } from './util.js'

/** Drop kinds covered by a more specific rule. */
const SPECIFIC = new Set([
  'OBJECT_TABLE',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_MATVIEW',
  'OBJECT_VIEW',
  'OBJECT_SCHEMA',
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_ROUTINE',
  'OBJECT_AGGREGATE',
  'OBJECT_INDEX',
  'OBJECT_STATISTIC_EXT',
  'OBJECT_TRIGGER',
  'OBJECT_RULE',
])

/** Every other DROP (sequence, type, domain, extension, policy, ...): objects that hold data, definitions or privileges. */
export const dropObject = defineRule<DropStmt>({
  id: 'drop-object',
  tier: 'destructive',
  kinds: ['DropStmt', 'DropTableSpaceStmt', 'DropSubscriptionStmt'],
  check: (s) => {
    if (s.removeType === undefined) {
      // DropTableSpaceStmt / DropSubscriptionStmt carry their own name field.
      const named = s as { tablespacename?: string; subname?: string }
      return named.tablespacename ?? named.subname ?? true
    }
    return SPECIFIC.has(String(s.removeType)) ? undefined : dropObjectNames(s.objects)
  },
  message: (t, s) =>
    s.removeType === undefined
      ? `This DROP deletes ${t} and what depends on it.`
      : `DROP ${objectTypeWords(s.removeType)} ${t} deletes it and what it holds (values, definitions, privileges); there is no undo.`,
  hint: 'Back up the definition and data first; check dependents with pg_depend; drop it in its own reviewed migration.',
})
