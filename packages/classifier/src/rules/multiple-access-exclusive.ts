import { relationKey, statementLocks } from '../locks.js'
import { defineRule } from '../rule.js'
import { STATEMENT_KINDS } from '../statement-kinds.js'
import type { Fields } from '../walk.js'

/** A second statement in the script that takes ACCESS EXCLUSIVE on a table an earlier one already locked. */
export const multipleAccessExclusive = defineRule<Fields>({
  id: 'multiple-access-exclusive',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: STATEMENT_KINDS,
  check: (s, ctx) => {
    if (ctx.ancestors.length > 0) return undefined
    const seen = ctx.script.hazards.accessExclusive
    return statementLocks(ctx.statementKind, s, ctx.pgVersion)
      .relations.filter((r) => r.mode === 'AccessExclusiveLock' && (seen.get(relationKey(r.relation)) ?? 0) > 0)
      .map((r) => r.relation)
  },
  message: (t) =>
    `${t} is locked ACCESS EXCLUSIVE again by this statement after an earlier one in the same script: in one transaction the lock is held from the first statement to COMMIT, and reads and writes of ${t} wait through every statement between.`,
  hint: (t) =>
    `Fold the changes to ${t} into one ALTER TABLE with several actions (one lock, at most one rewrite), or split them into separate migrations so each holds the lock briefly.`,
})
