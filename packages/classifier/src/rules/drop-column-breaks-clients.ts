import type { AlterTableCmd } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'

/** Dropping a column breaks clients that still select it or cache the column list (beside the tier rule drop-column). */
export const dropColumnBreaksClients = defineRule<AlterTableCmd>({
  id: 'drop-column-breaks-clients',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    cmd.subtype === 'AT_DropColumn' && existingRelation(ctx) ? `${ctx.relation}.${cmd.name ?? ''}` : undefined,
  message: (t) =>
    `DROP COLUMN ${t}: running clients that still name the column fail, and ORMs that cached the column list (SELECT * mapped to a model, prepared INSERTs) break until they restart.`,
  hint: '1. Stop reading and writing the column in the app (Rails: ignored_columns) and deploy. 2. Drop it in a later migration, once no running version uses it.',
})
