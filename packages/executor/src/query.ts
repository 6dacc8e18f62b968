import type { ClassifiedStatement, Plan } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { auditFlags, auditIds, recordAll } from './audit-trail.js'
import { classifySql } from './classify-sql.js'
import { type ExecutorError, InputError, SafetyError } from './errors.js'
import { auditError, scopeOf, withSession } from './execute.js'
import { type ExecutorContext, runContextOf } from './executor-context.js'
import { checkParsed, refusedStatement } from './gate.js'
import { inTransaction, type RunContext, type RunError } from './plan-runner.js'
import type { QueryResult, Row } from './results.js'
import type { Session } from './session.js'
import { sendStatement, toRunError } from './statement-runner.js'

/** Statement kinds that only read. */
const READ_KINDS = new Set(['SelectStmt', 'VariableShowStmt', 'ExplainStmt'])

/** Parse-tree nodes that write, wherever they appear (a data-modifying CTE, SELECT INTO, EXPLAIN ANALYZE). */
const WRITE_NODES = [
  '"InsertStmt"',
  '"UpdateStmt"',
  '"DeleteStmt"',
  '"MergeStmt"',
  '"CreateTableAsStmt"',
  '"intoClause"',
]

/**
 * Why a statement is not a plain read, or `undefined` when it is one: a read kind (SELECT, VALUES,
 * TABLE, SHOW, EXPLAIN), classified `safe`, with no writing node anywhere in its tree. Never throws.
 */
export function writeReason(statement: ClassifiedStatement): string | undefined {
  if (!READ_KINDS.has(statement.kind)) return `it is a ${statement.kind.replace(/Stmt$/, '')} statement, not a read`
  if (statement.verdict.tier !== 'safe') {
    const finding = statement.verdict.findings.find((f) => f.tier !== 'safe')
    return `it is classified ${statement.verdict.tier}${finding !== undefined ? `: ${finding.message}` : ''}`
  }
  let tree: string
  try {
    tree = JSON.stringify(statement.ast ?? null)
  } catch {
    return 'its parse tree could not be read'
  }
  const node = WRITE_NODES.find((n) => tree.includes(n))
  if (node !== undefined) return 'it writes (a data-modifying CTE, SELECT INTO, or EXPLAIN ANALYZE of a write)'
  return undefined
}

/**
 * Checks that a plan is exactly one plain read. Fails with `ParseError`, `InputError` (not exactly
 * one statement) or `SafetyError` (`write-in-query`). Never throws.
 */
export function checkRead(plan: Plan): Result<ClassifiedStatement, ExecutorError> {
  const parsed = checkParsed(plan)
  if (parsed.isErr()) return err(parsed.error)
  const only = plan.statements.length === 1 ? plan.statements[0] : undefined
  if (only === undefined) {
    return err(
      new InputError(
        `query() runs exactly one statement; this has ${plan.statements.length}. Run them one at a time.`,
        { problem: 'one-statement' },
      ),
    )
  }
  const reason = writeReason(only)
  if (reason !== undefined) {
    return err(
      new SafetyError(
        `query() only reads, and this statement was refused because ${reason}. Nothing was sent.\n` +
          'Use execute() (ddl exec) for changes: it is gated, audited and transactional.',
        {
          reason: 'write-in-query',
          tier: only.verdict.tier,
          requires: 'none',
          statements: [refusedStatement(only)],
          hint: 'Use execute() (ddl exec) for changes.',
        },
      ),
    )
  }
  return ok(only)
}

/** Sends one read with bound parameters on a session (inside whatever transaction it is in). */
export async function sendRead<R extends Row>(
  session: Session,
  statement: ClassifiedStatement,
  params: readonly unknown[],
  context: RunContext,
  aftermath: 'read-only' | 'none',
): Promise<Result<QueryResult<R>, RunError>> {
  try {
    const result = await sendStatement(session.client, statement.text, params)
    return ok({
      rows: result.rows as R[],
      rowCount: typeof result.rowCount === 'number' ? result.rowCount : result.rows.length,
      fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      command: result.command,
    })
  } catch (error) {
    return err(
      toRunError(error, {
        phase: 'query',
        statement,
        index: 0,
        aftermath,
        secrets: context.secrets,
        connectionError: context.connectionError,
      }),
    )
  }
}

/**
 * `query()`: one plain read, refused before sending when the classifier sees it writing, run inside
 * `BEGIN READ ONLY` (so the server refuses a write a function attempts) under the usual timeouts,
 * with `params` bound ($1, $2, ...), never interpolated. Reads are not audited; refused writes are.
 * Never throws.
 */
export async function querySql<R extends Row = Row>(
  ctx: ExecutorContext,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Result<QueryResult<R>, ExecutorError>> {
  const classified = await classifySql(sql, ctx.classifyOptions)
  if (classified.isErr()) return err(classified.error)
  const plan = classified.value
  const read = checkRead(plan)
  if (read.isErr()) {
    if (read.error.kind === 'SafetyError') {
      await recordAll(scopeOf(ctx, undefined), auditIds(plan.statements), auditFlags({}), 'blocked', () => ({
        error: auditError(read.error),
      }))
    }
    return err(read.error)
  }
  const statement = read.value
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  return withSession(connector.value, (session) => {
    // A read can still change the session: a session-level advisory lock (pg_advisory_lock) survives
    // the rollback and would block `ddl migrate`. DISCARD ALL on release: no lock, prepared
    // statement, temporary object, listener or setting outlives the call.
    session.dirty = true
    return inTransaction(
      session,
      {
        lockTimeoutMs: ctx.timeouts.lockTimeoutMs,
        statementTimeoutMs: ctx.timeouts.statementTimeoutMs,
        readOnly: true,
      },
      context,
      () => sendRead<R>(session, statement, params, context, 'read-only'),
      'rollback',
    )
  })
}
