import { openingWords } from '../hazard-state.js'
import { defineRule } from '../rule.js'
import { STATEMENT_KINDS } from '../statement-kinds.js'
import { transactionFacts } from '../transaction.js'
import type { Fields } from '../walk.js'

/** Statements that neither change data nor lock: they may share a script with CONCURRENTLY. */
const SETTINGS = new Set(['VariableSetStmt', 'VariableShowStmt', 'TransactionStmt'])

/**
 * A statement Postgres refuses inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...)
 * after BEGIN, or in a script with other statements, which migration runners wrap in one transaction.
 */
export const concurrentlyInTransaction = defineRule<Fields>({
  id: 'concurrently-in-transaction',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: STATEMENT_KINDS,
  check: (s, ctx) => {
    if (ctx.ancestors.length > 0) return undefined
    const kind = ctx.statementKind
    const state = ctx.script.hazards
    if (!transactionFacts(kind, s).transactional) {
      return state.inTransaction || state.statements > 0 ? openingWords(ctx.text) : undefined
    }
    const earlier = state.nonTransactional
    if (earlier !== undefined && earlier.after === 0 && !state.inTransaction && !SETTINGS.has(kind)) return earlier.text
    return undefined
  },
  message: (t) =>
    `${t} cannot run inside a transaction block, and this script runs it after BEGIN or beside other statements: a migration runner that wraps the file in one transaction fails on it.`,
  hint: (t) =>
    `Put ${t} in a migration file of its own (a SET lock_timeout may come first) and run that file outside a transaction.`,
})
