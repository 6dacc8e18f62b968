import type { TruncateStmt } from '@pgsql/types'
import { freshTable } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { rangeVarName, unwrap } from '../walk.js'

/** TRUNCATE empties tables at once. */
export const truncate = defineRule<TruncateStmt>({
  id: 'truncate',
  tier: 'cautious',
  kinds: ['TruncateStmt'],
  check: (s, ctx) =>
    (s.relations ?? [])
      .map((r) => rangeVarName(unwrap(r)?.[1]))
      // A table the script created holds only what the script wrote (CASCADE is its own rule).
      .filter((name) => ctx.ancestors.length > 0 || !freshTable(ctx.script, name)),
  message: (t) => `TRUNCATE ${t} deletes every row of the table at once; no trigger per row, no undo after commit.`,
  hint: 'Back up the rows you may need (COPY ... TO STDOUT), then truncate; to delete some rows, use DELETE with a WHERE.',
})
