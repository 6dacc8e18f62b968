import type { DropStmt } from '@pgsql/types'
import { createdInScript } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { dropObjectNames } from './util.js'

/** DROP INDEX without CONCURRENTLY locks the index's table ACCESS EXCLUSIVE. */
export const dropIndexWithoutConcurrently = defineRule<DropStmt>({
  id: 'drop-index-without-concurrently',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['DropStmt'],
  check: (s, ctx) =>
    s.removeType === 'OBJECT_INDEX' && s.concurrent !== true
      ? dropObjectNames(s.objects).filter((name) => !createdInScript(ctx.script.hazards, name))
      : undefined,
  message: (t) =>
    `DROP INDEX ${t} takes an ACCESS EXCLUSIVE lock on the index and its table: it waits for every running query on the table, and every read and write queued behind it waits too.`,
  hint: (t) => `Use DROP INDEX CONCURRENTLY ${t} in a migration of its own, outside a transaction.`,
})
