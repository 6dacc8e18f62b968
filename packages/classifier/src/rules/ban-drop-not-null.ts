import type { AlterTableCmd } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'

/** DROP NOT NULL lets NULL into a column that running clients read as always set. */
export const banDropNotNull = defineRule<AlterTableCmd>({
  id: 'ban-drop-not-null',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    cmd.subtype === 'AT_DropNotNull' && existingRelation(ctx) ? `${ctx.relation}.${cmd.name ?? ''}` : undefined,
  message: (t) =>
    `DROP NOT NULL on ${t} lets NULL in: every client that reads the column as always set can fail or misbehave on the first NULL written.`,
  hint: (t) => {
    const column = t.slice(t.lastIndexOf('.') + 1)
    return `1. Make every client handle a NULL ${column} (reads, sorts, joins, serializers) and deploy. 2. Then drop NOT NULL in a later migration; only after that let writers store NULL.`
  },
})
