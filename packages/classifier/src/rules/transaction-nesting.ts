import type { TransactionStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { transactionFacts } from '../transaction.js'
import type { Fields } from '../walk.js'

/** The verbs that open or end a transaction (END and ABORT parse as COMMIT and ROLLBACK). */
const OPENS = new Set(['BEGIN', 'START TRANSACTION'])
const ENDS = new Set(['COMMIT', 'ROLLBACK'])

/** BEGIN, COMMIT or ROLLBACK in a migration that its tool already runs in a transaction. */
export const transactionNesting = defineRule<TransactionStmt>({
  id: 'transaction-nesting',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['TransactionStmt'],
  check: (s) => {
    const verb = transactionFacts('TransactionStmt', s as unknown as Fields).transactionControl ?? ''
    return OPENS.has(verb) || ENDS.has(verb) ? verb : undefined
  },
  message: (verb) =>
    OPENS.has(verb)
      ? `${verb} in a migration that its tool runs in a transaction opens nothing (Postgres only warns), and the COMMIT or ROLLBACK paired with it ends the tool's transaction early: what follows runs outside it, and a failure leaves the migration half applied.`
      : `${verb} in a migration that its tool runs in a transaction ends the tool's transaction early: the statements after it run outside it, and a failure leaves the migration half applied.`,
  hint: 'Remove BEGIN, COMMIT and ROLLBACK from the migration: its tool (ddl migrate too) already runs each file in one transaction. Put a statement that must run outside a transaction in a migration of its own.',
})
