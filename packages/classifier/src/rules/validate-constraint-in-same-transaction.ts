import type { AlterTableCmd } from '@pgsql/types'
import { relationKey } from '../locks.js'
import { defineRule } from '../rule.js'

/** VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID keeps ADD's lock during the scan. */
export const validateConstraintInSameTransaction = defineRule<AlterTableCmd>({
  id: 'validate-constraint-in-same-transaction',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    cmd.subtype === 'AT_ValidateConstraint' &&
    cmd.name !== undefined &&
    ctx.script.hazards.notValid.has(`${relationKey(ctx.relation)}.${cmd.name}`)
      ? `${ctx.relation}.${cmd.name}`
      : undefined,
  message: (t) =>
    `VALIDATE CONSTRAINT ${t} runs in the same transaction that added it NOT VALID: the lock ADD CONSTRAINT took (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) is still held while every row is checked.`,
  hint: 'Move VALIDATE CONSTRAINT to a later migration, after the one that adds the constraint NOT VALID has committed.',
})
