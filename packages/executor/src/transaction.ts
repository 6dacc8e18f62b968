import type { AuditFlags } from '@ddl/audit'
import { type ClassifiedStatement, compareTiers, type Tier } from '@ddl/classifier'
import { Err, err, Ok, ok, type Result, ResultAsync } from 'neverthrow'
import {
  type AuditedStatement,
  type AuditScope,
  auditFlags,
  auditIds,
  type OutcomeDetails,
  recordAll,
} from './audit-trail.js'
import { classifySql } from './classify-sql.js'
import { allowedTier, commitCheck, expectsEffects, truncatedNames } from './effect-check.js'
import { CallbackError, type ExecutorError, InputError, isExecutorError, type TransactionError } from './errors.js'
import { auditError, scopeOf, withSession } from './execute.js'
import { type ExecutorContext, runContextOf } from './executor-context.js'
import { type GateFlags, gatePlan } from './gate.js'
import { inTransaction, type RunContext, runStatements, type StatementObserver } from './plan-runner.js'
import { checkRead, sendRead } from './query.js'
import type { ExecuteResult, QueryResult, Row, StatementRun } from './results.js'
import type { Session } from './session.js'
import { toRunError } from './statement-runner.js'
import type { UndoSummary } from './undo/undo-items.js'
import type { UndoKeeper } from './undo/undo-keeper.js'
import { keeperFor, type UndoFlags, undoAuditLink } from './undo/undo-run.js'

/** Options of `tx.execute()`: the gate's flags (no dry run or rehearsal inside a transaction). */
export interface TransactionExecuteOptions extends GateFlags, UndoFlags {
  /** Where the SQL came from, recorded in the audit log. */
  readonly source?: string
}

/** One statement sent in the transaction, and how it ended. */
interface Sent {
  readonly item: AuditedStatement
  readonly scope: AuditScope
  readonly flags: AuditFlags
  /** `pending` until sent; `ran` when the server ran it; `failed` when it failed. */
  status: 'pending' | 'ran' | 'failed'
  run?: StatementRun
  failure?: ExecutorError
}

const TIER_NAME: Record<Tier, string> = { safe: 'SAFE', cautious: 'CAUTIOUS', destructive: 'DESTRUCTIVE' }

/**
 * The handle `transaction()` passes to its callback. Every `execute` is classified, gated and audited
 * like `PostgresAPI.execute`, and runs on the transaction's one connection; nothing commits until
 * the callback returns. The first `Err` (or throw) dooms the transaction: it is rolled back, and later
 * calls are refused without sending anything.
 */
export class Transaction {
  readonly #ctx: ExecutorContext
  readonly #session: Session
  readonly #run: RunContext
  readonly #sent: Sent[] = []
  #queue: Promise<unknown> = Promise.resolve()
  #failure: ExecutorError | undefined
  #ended = false
  readonly #keeper: UndoKeeper | undefined
  #statements: ClassifiedStatement[] = []
  #undo: UndoSummary | undefined
  #gaveUp = false
  #allowed: Tier = 'safe'
  readonly #truncated: string[] = []

  /** @internal Created by `transaction()`. */
  constructor(ctx: ExecutorContext, session: Session, run: RunContext) {
    this.#ctx = ctx
    this.#session = session
    this.#run = run
    this.#keeper = keeperFor(ctx, {}, undefined, ctx.flagStyle === 'cli' ? '--no-undo' : 'noUndo: true')
  }

  /**
   * What undo kept of this transaction, once it committed (`undefined` before, or when nothing was
   * kept): `db.undo(tx.undo.id)` puts it back.
   */
  get undo(): UndoSummary | undefined {
    return this.#undo
  }

  /** @internal Before COMMIT: records what was kept. Throws the driver's error. */
  async finishUndo(): Promise<void> {
    if (this.#keeper === undefined) return
    this.#undo = await this.#keeper.finish(
      this.#session,
      this.#statements,
      this.#sent.map((s) => s.item.runId),
    )
  }

  /** @internal Why keeping failed, if it did. */
  get undoFailure(): ExecutorError | undefined {
    return this.#keeper?.failure
  }

  /**
   * Classifies, gates and runs SQL in the transaction (not committed yet). Fails with `SafetyError`,
   * `ParseError`, `InputError`, `AuditError`, `PostgresError` or `ConnectionError`; any failure rolls
   * the whole transaction back when the callback returns. Never throws.
   *
   * @example
   * await unwrap(db.transaction(async (tx) => {
   *   await unwrap(tx.execute('CREATE TABLE orders (id uuid PRIMARY KEY)'))
   *   await unwrap(tx.execute('CREATE TABLE order_items (id uuid, order_id uuid REFERENCES orders)'))
   * }))
   */
  execute(sql: string, options: TransactionExecuteOptions = {}): ResultAsync<ExecuteResult, ExecutorError> {
    return this.#serial(() => this.#execute(sql, options))
  }

  /**
   * One plain read in the transaction (it sees the transaction's own changes), parameters bound.
   * Refused before sending when it writes. Never throws.
   */
  query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): ResultAsync<QueryResult<R>, ExecutorError> {
    return this.#serial(async () => {
      const usable = this.#usable()
      if (usable !== undefined) return err(usable)
      const classified = await classifySql(sql, this.#ctx.classifyOptions)
      if (classified.isErr()) return this.#fail(classified.error)
      const read = checkRead(classified.value)
      if (read.isErr()) return this.#fail(read.error)
      const result = await sendRead<R>(this.#session, read.value, params, this.#run, 'none')
      if (result.isErr()) return this.#fail(result.error)
      return ok(result.value)
    })
  }

  /** @internal The highest tier any call's flags allowed (what the effect check holds the whole transaction to). */
  get allowed(): Tier {
    return this.#allowed
  }

  /** @internal The statements the calls sent, in order. */
  get statements(): readonly ClassifiedStatement[] {
    return this.#statements
  }

  /** @internal Tables the calls named in TRUNCATE. */
  get truncated(): readonly string[] {
    return this.#truncated
  }

  /** @internal The first failure, if any. */
  get failure(): ExecutorError | undefined {
    return this.#failure
  }

  /** @internal Waits for calls still running, then refuses new ones. */
  async end(): Promise<void> {
    await this.#queue.catch(() => undefined)
    this.#ended = true
  }

  /** @internal Records the outcome of every statement sent (one batch). */
  async recordOutcomes(committed: boolean): Promise<string[]> {
    const owed = this.#sent
    const warnings: string[] = []
    const byScope = new Map<AuditScope, Sent[]>()
    for (const sent of owed) {
      const list = byScope.get(sent.scope)
      if (list === undefined) byScope.set(sent.scope, [sent])
      else list.push(sent)
    }
    for (const [scope, list] of byScope) {
      for (const flagsGroup of groupBy(list, (s) => JSON.stringify(s.flags))) {
        const first = flagsGroup[0]
        if (first === undefined) continue
        const recorded = await recordAll(
          scope,
          flagsGroup.map((s) => s.item),
          first.flags,
          (_item, i) => {
            const sent = flagsGroup[i]
            if (sent?.status === 'failed') return 'failed'
            return committed ? 'committed' : 'rolled_back'
          },
          (_item, i): OutcomeDetails => {
            const sent = flagsGroup[i]
            if (sent?.status === 'failed' && sent.failure !== undefined) {
              const f = sent.failure
              return {
                sqlstate: f.kind === 'PostgresError' ? f.code : undefined,
                error: auditError(f),
              }
            }
            if (sent === undefined || sent.status === 'pending')
              return { error: 'not sent: an earlier statement failed' }
            const link = committed
              ? undoAuditLink({ noUndo: this.#gaveUp }, this.#undo, this.#sent.indexOf(sent))
              : undefined
            return {
              rowsAffected: sent.run?.rowCount ?? undefined,
              durationMs: sent.run?.durationMs,
              ...(committed ? {} : { error: 'rolled back with the transaction' }),
              ...(link !== undefined ? { undo: link } : {}),
            }
          },
        )
        if (recorded.isErr()) warnings.push(`The audit outcome could not be written: ${recorded.error.message}`)
      }
    }
    return warnings
  }

  #serial<T>(fn: () => Promise<Result<T, ExecutorError>>): ResultAsync<T, ExecutorError> {
    const next = this.#queue.then(fn, fn)
    this.#queue = next.catch(() => undefined)
    return new ResultAsync(next)
  }

  #usable(): ExecutorError | undefined {
    if (this.#ended) {
      return new InputError('This transaction has ended; start a new one with transaction().', {
        problem: 'transaction-ended',
      })
    }
    if (this.#failure !== undefined) {
      return new InputError(
        `An earlier call in this transaction failed (${this.#failure.kind}); the transaction will be rolled back. ` +
          'Nothing more is sent.',
        { problem: 'transaction-ended' },
        { cause: this.#failure },
      )
    }
    return undefined
  }

  #fail<T>(error: ExecutorError): Result<T, ExecutorError> {
    if (this.#failure === undefined) this.#failure = error
    return err(error)
  }

  async #execute(sql: string, options: TransactionExecuteOptions): Promise<Result<ExecuteResult, ExecutorError>> {
    const usable = this.#usable()
    if (usable !== undefined) return err(usable)
    const classified = await classifySql(sql, this.#ctx.classifyOptions, options.source)
    if (classified.isErr()) return this.#fail(classified.error)
    const plan = classified.value
    const scope = scopeOf(this.#ctx, options.source)
    const flags = auditFlags(options)
    const items = auditIds(plan.statements)
    const gate = gatePlan(plan, options, 'transaction', this.#ctx.flagStyle)
    if (gate.isErr()) {
      await recordAll(scope, items, flags, 'blocked', () => ({ error: auditError(gate.error) }))
      return this.#fail(gate.error)
    }
    const intents = await recordAll(scope, items, flags, 'intent', () =>
      options.noUndo === true ? { undo: 'given-up' } : {},
    )
    if (intents.isErr()) return this.#fail(intents.error)
    if (options.noUndo === true) this.#gaveUp = true
    const allowed = allowedTier(options)
    if (compareTiers(allowed, this.#allowed) > 0) this.#allowed = allowed
    this.#truncated.push(...truncatedNames(plan))
    const sent: Sent[] = items.map((item) => ({ item, scope, flags, status: 'pending' }))
    this.#sent.push(...sent)
    const offset = this.#statements.length
    this.#statements.push(...plan.statements)
    const started = performance.now()
    const runs = await runStatements(this.#session, plan.statements, this.#run, {
      aftermath: 'rolled-back',
      lockTimeoutMs: this.#ctx.timeouts.lockTimeoutMs,
      ...(this.#keeper !== undefined && options.noUndo !== true ? { observer: shifted(this.#keeper, offset) } : {}),
    })
    if (runs.isErr() && this.#keeper?.failure !== undefined) {
      for (const s of sent) s.status = 'failed'
      return this.#fail(this.#keeper.failure)
    }
    if (runs.isErr()) {
      const index = runs.error.kind === 'PostgresError' ? runs.error.statementIndex : undefined
      const failed = sent[index ?? 0]
      if (failed !== undefined) {
        failed.status = 'failed'
        failed.failure = runs.error
      }
      for (const s of sent.slice(0, index ?? 0)) s.status = 'ran'
      return this.#fail(runs.error)
    }
    for (const run of runs.value) {
      const s = sent[run.index]
      if (s !== undefined) {
        s.status = 'ran'
        s.run = run
      }
    }
    const durationMs = Math.round(performance.now() - started)
    const n = runs.value.length
    return ok({
      mode: 'executed',
      project: this.#ctx.project,
      tier: plan.tier,
      inTransaction: true,
      statements: runs.value,
      durationMs,
      message: `Ran ${n} statement${n === 1 ? '' : 's'} in the transaction (not committed yet); ${TIER_NAME[plan.tier]}; ${durationMs} ms.`,
      warnings: [],
    })
  }
}

/** The keeper seen with indexes counted over the whole transaction (each call's start at `offset`). */
function shifted(keeper: UndoKeeper, offset: number): StatementObserver {
  return {
    before: (session, statement, index) => keeper.before(session, statement, index + offset),
    instead: (session, statement, index) => keeper.instead(session, statement, index + offset),
    after: (session, statement, index) => keeper.after(session, statement, index + offset),
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = groups.get(k)
    if (list === undefined) groups.set(k, [item])
    else list.push(item)
  }
  return [...groups.values()]
}

/** What a `transaction()` callback may return: a value, or a Result (an `Err` rolls back). */
export type TransactionCallback<T, E> = (tx: Transaction) => Promise<T> | PromiseLike<Result<T, E>>

/**
 * `transaction()`: one connection from BEGIN to COMMIT under `SET LOCAL` timeouts; the callback's
 * `tx.execute` calls are each gated and audited; COMMIT when the callback returns (or returns `Ok`)
 * and no call failed; ROLLBACK on any `Err`, failed call or throw; the connection is released in
 * `finally`. Before COMMIT the effect check measures the whole transaction against the highest tier
 * any call's flags allowed (and the context's `maxRows`): beyond it, `SafetyError` and ROLLBACK.
 * A throw that is not an `ExecutorError` comes back as `CallbackError`. Never throws.
 */
export async function runTransaction<T, E = never>(
  ctx: ExecutorContext,
  fn: TransactionCallback<T, E>,
): Promise<Result<T, TransactionError | E>> {
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  let tx: Transaction | undefined
  const result = await withSession(connector.value, (session) =>
    inTransaction<T, TransactionError | E>(
      session,
      { lockTimeoutMs: ctx.timeouts.lockTimeoutMs, statementTimeoutMs: ctx.timeouts.statementTimeoutMs },
      context,
      async () => {
        session.dirty = true
        const handle = new Transaction(ctx, session, context)
        tx = handle
        let value: unknown
        try {
          value = await fn(handle)
        } catch (error) {
          await handle.end()
          if (isExecutorError(error)) return err(error)
          const message = error instanceof Error ? error.message : String(error)
          return err(
            new CallbackError(`The transaction callback threw: ${message}. The transaction was rolled back.`, {
              cause: error,
            }),
          )
        }
        await handle.end()
        if (handle.failure !== undefined) return err(handle.failure)
        if (value instanceof Err) return err(value.error as E)
        try {
          await handle.finishUndo()
        } catch (error) {
          return err(handle.undoFailure ?? toRunError(error, { phase: 'commit', aftermath: 'rolled-back', ...context }))
        }
        if (value instanceof Ok) return ok(value.value as T)
        return ok(value as T)
      },
      'commit',
      commitCheck(
        () => ({
          allowed: tx?.allowed ?? 'safe',
          maxRows: ctx.effects.maxRows,
          allowEffects: ctx.effects.allowEffects,
          style: ctx.flagStyle,
        }),
        () => tx?.truncated ?? [],
        undefined,
        () => tx === undefined || !expectsEffects(tx.statements),
      ),
    ),
  )
  if (tx !== undefined) await tx.recordOutcomes(result.isOk())
  return result
}
