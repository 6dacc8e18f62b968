import type { AlterTableCmd } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'

/** ADD CONSTRAINT ... EXCLUDE builds its index and checks every row under ACCESS EXCLUSIVE, with no concurrent way. */
export const addExclusionConstraint = defineRule<AlterTableCmd>({
  id: 'add-exclusion-constraint',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => {
    const con = unwrap(cmd.def)
    return cmd.subtype === 'AT_AddConstraint' &&
      con?.[0] === 'Constraint' &&
      con[1].contype === 'CONSTR_EXCLUSION' &&
      existingRelation(ctx)
      ? ctx.relation
      : undefined
  },
  message: (t) =>
    `ADD CONSTRAINT ... EXCLUDE builds an index on ${t} and checks every row under an ACCESS EXCLUSIVE lock: reads and writes of ${t} wait until it ends, and Postgres has no concurrent way to add one.`,
  hint: (t) =>
    `Add exclusion constraints when ${t} is created; on a large existing table, run it in a maintenance window with SET lock_timeout first.`,
})
