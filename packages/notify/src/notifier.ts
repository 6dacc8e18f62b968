import { setTimeout as sleep } from 'node:timers/promises'
import { AuditLog } from '@ddl/audit'
import { ResultAsync } from 'neverthrow'
import { readRecordsAfter } from './audit-reader.js'
import { type Delivery, type DeliveryState, readState, statePath, withStateLock, writeState } from './delivery-state.js'
import { deriveEvents } from './derive-events.js'
import type { ResolvedSink } from './notify-config.js'
import { NotifyError } from './notify-error.js'
import type { NotifyEvent, NotifyStatement } from './notify-event.js'
import { sinkWants } from './payload.js'
import { type SendOutcome, sendOnce } from './send.js'

/** After this many failed attempts a delivery is `failed`: only `ddl notify --retry` tries it again. */
export const MAX_ATTEMPTS = 8

/** What a pending approval's request holds beyond its audit records (read from the approval store). */
export interface ApprovalDetails {
  readonly statements?: readonly NotifyStatement[]
  readonly rehearsal?: readonly string[]
  /** `host:port/database`. */
  readonly database?: string
  readonly expiresAt?: string
}

/** Options of {@link Notifier.open}. */
export interface NotifierOptions {
  /** The audit log the events are derived from; the state is kept beside it (`<log>.notify.json`). */
  readonly auditPath: string
  readonly sinks: readonly ResolvedSink[]
  /** Reads a pending approval's statements, findings and rehearsal (the approval store). */
  readonly describeApproval?: (id: string) => Promise<ApprovalDetails | undefined>
  /** The clock. Default `() => new Date()`. */
  readonly now?: () => Date
}

/** Options of {@link Notifier.deliverPending}. */
export interface DeliverOptions {
  /**
   * The most this call may take (ms), sends and retries included. Default and ceiling: the largest
   * sink timeout, so a dead sink costs a command at most its timeout.
   */
  readonly budgetMs?: number
  /** When there is no delivery state yet, records stamped before this are not notified (ISO time). Default now. */
  readonly since?: string
  /** Events that no audit record carries (migration, drift, verify): written to the state before sending. */
  readonly events?: readonly NotifyEvent[]
  /** Retry every delivery now, `failed` ones too, whatever its backoff says (`ddl notify --retry`). */
  readonly force?: boolean
}

/** What a call did. */
export interface DeliveryReport {
  readonly delivered: number
  /** Deliveries still owed (pending or failed), after this call. */
  readonly pending: number
  readonly failed: number
  /** One line per delivery that failed this time: the event, the sink label, why. No URL, no secret. */
  readonly errors: readonly string[]
  readonly notes: readonly string[]
}

/** What `ddl notify --status` shows. */
export interface NotifyStatus {
  readonly statePath: string
  readonly sinks: readonly { readonly id: string; readonly label: string }[]
  readonly cursor: DeliveryState['cursor']
  readonly delivered: number
  readonly lastDeliveredAt?: string
  readonly deliveries: readonly Delivery[]
  readonly notes: readonly string[]
}

interface Attempted {
  readonly key: string
  readonly outcome: SendOutcome
  readonly attempts: number
}

/**
 * Delivers notifications derived from the audit log (the log is the outbox) to signed webhooks and
 * Slack. It runs after the work's records are durable, in the process that wrote them (or in
 * `ddl notify`), and it never blocks or fails the work: every send has a timeout, a call has a
 * total budget, and what is not delivered stays in `<audit log>.notify.json` for the next command.
 *
 * @example
 * ```ts
 * const { sinks } = resolveSinks(config.notify, process.env)
 * const notifier = Notifier.open({ auditPath: log.path, sinks })
 * const report = await notifier.deliverPending({ since: started.toISOString() })
 * if (report.isErr()) process.stderr.write(`notifications: ${report.error.message}\n`)
 * ```
 */
export class Notifier {
  readonly statePath: string
  readonly #options: NotifierOptions
  readonly #now: () => Date

  private constructor(options: NotifierOptions) {
    this.#options = options
    this.statePath = statePath(options.auditPath)
    this.#now = options.now ?? (() => new Date())
  }

  /** A notifier for one audit log and its sinks. Touches no file. Never throws. */
  static open(options: NotifierOptions): Notifier {
    return new Notifier(options)
  }

  /**
   * Reads the records written since the last call, turns them into events, adds the deliveries each
   * sink wants, and sends what is due, within the budget. Fails with {@link NotifyError} only when
   * the state cannot be kept (unreadable, or locked by another process for more than a second);
   * failed sends are in the report. With no sink it does nothing. Never throws.
   */
  deliverPending(options: DeliverOptions = {}): ResultAsync<DeliveryReport, NotifyError> {
    return ResultAsync.fromPromise(this.#deliver(options), (error) =>
      error instanceof NotifyError
        ? error
        : new NotifyError(`Notifications could not be delivered: ${(error as Error).message}`, 'state', {
            cause: error,
          }),
    )
  }

  /** The delivery state: cursor, deliveries owed, count delivered. Fails with {@link NotifyError}. Never throws. */
  status(): ResultAsync<NotifyStatus, NotifyError> {
    return ResultAsync.fromPromise(
      readState(this.statePath).then((state) => ({
        statePath: this.statePath,
        sinks: this.#options.sinks.map((s) => ({ id: s.id, label: s.label })),
        cursor: state.cursor,
        delivered: state.delivered,
        ...(state.lastDeliveredAt !== undefined ? { lastDeliveredAt: state.lastDeliveredAt } : {}),
        deliveries: state.deliveries,
        notes: state.notes,
      })),
      (error) =>
        error instanceof NotifyError
          ? error
          : new NotifyError(`The notification state could not be read: ${(error as Error).message}`, 'state'),
    )
  }

  async #deliver(options: DeliverOptions): Promise<DeliveryReport> {
    const sinks = this.#options.sinks
    if (sinks.length === 0) return { delivered: 0, pending: 0, failed: 0, errors: [], notes: [] }
    const ceiling = Math.max(...sinks.map((s) => s.timeoutMs))
    const budget = Math.max(1, Math.min(options.budgetMs ?? ceiling, ceiling))
    const since = options.since ?? this.#now().toISOString()
    const notes: string[] = []
    // Events come from durable records only: records this process wrote with `flush: 'with-next'`
    // (an outcome of a long-running `ddl mcp`) are flushed first.
    const flushed = await AuditLog.open({ path: this.#options.auditPath }).flush()
    if (flushed.isErr()) notes.push(`the audit log could not be flushed: ${flushed.error.message}`)

    // 1. Under the lock: read new records, add deliveries, claim what is due.
    const claimed = await withStateLock(this.statePath, 1_000, async () => {
      const state = await readState(this.statePath)
      const read = await readRecordsAfter(this.#options.auditPath, state.cursor, since)
      if (read.note !== undefined) notes.push(read.note)
      const events = [...(await this.#enrich(deriveEvents(read.records))), ...(options.events ?? [])]
      const now = this.#now()
      const known = new Set(state.deliveries.map((d) => d.key))
      const added: Delivery[] = []
      for (const event of events) {
        for (const sink of sinks) {
          const key = `${event.id}@${sink.id}`
          if (!sinkWants(sink, event) || known.has(key)) continue
          known.add(key)
          added.push({
            key,
            sink: sink.id,
            sinkLabel: sink.label,
            event,
            attempts: 0,
            state: 'pending',
            nextAttemptAt: now.toISOString(),
          })
        }
      }
      const nowIso = now.toISOString()
      const claimUntil = new Date(now.getTime() + budget + 5_000).toISOString()
      const due: Delivery[] = []
      const deliveries = [...state.deliveries, ...added].map((d) => {
        const free = d.claimedUntil === undefined || d.claimedUntil < nowIso
        const ready = options.force === true || (d.state === 'pending' && d.nextAttemptAt <= nowIso)
        if (!free || !ready || !sinks.some((s) => s.id === d.sink)) return d
        const claim = { ...d, claimedUntil: claimUntil }
        due.push(claim)
        return claim
      })
      await writeState(this.statePath, {
        ...state,
        ...(read.cursor !== undefined ? { cursor: read.cursor } : {}),
        deliveries,
        notes: [...state.notes, ...notes].slice(-20),
      })
      return due
    })

    // 2. Send, sinks side by side, each sink's deliveries in order, all within the budget.
    const deadline = Date.now() + budget
    const bySink = new Map<string, Delivery[]>()
    for (const d of claimed) bySink.set(d.sink, [...(bySink.get(d.sink) ?? []), d])
    const results = (
      await Promise.all(
        [...bySink].map(async ([id, list]) => {
          const sink = sinks.find((s) => s.id === id) as ResolvedSink
          const done: Attempted[] = []
          for (const d of list) {
            if (Date.now() >= deadline) break
            done.push(await this.#attempt(d, sink, deadline))
          }
          return done
        }),
      )
    ).flat()

    // 3. Under the lock again: record what happened.
    return await withStateLock(this.statePath, 1_000, async () => {
      const state = await readState(this.statePath)
      const now = this.#now()
      const byKey = new Map(results.map((r) => [r.key, r]))
      const claimedKeys = new Set(claimed.map((d) => d.key))
      let delivered = 0
      const errors: string[] = []
      const deliveries: Delivery[] = []
      for (const d of state.deliveries) {
        const result = byKey.get(d.key)
        const { claimedUntil: _claim, ...unclaimed } = d
        if (result === undefined) {
          deliveries.push(claimedKeys.has(d.key) ? unclaimed : d)
          continue
        }
        if (result.outcome.ok) {
          delivered++
          continue
        }
        const attempts = d.attempts + result.attempts
        errors.push(`${d.event.type} ${d.event.id} to ${d.sinkLabel}: ${result.outcome.error} (attempt ${attempts})`)
        deliveries.push({
          ...unclaimed,
          attempts,
          state: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
          lastError: result.outcome.error,
          nextAttemptAt: new Date(now.getTime() + backoffMs(attempts)).toISOString(),
        })
      }
      await writeState(this.statePath, {
        ...state,
        deliveries,
        delivered: state.delivered + delivered,
        ...(delivered > 0 ? { lastDeliveredAt: now.toISOString() } : {}),
      })
      return {
        delivered,
        pending: deliveries.filter((d) => d.state === 'pending').length,
        failed: deliveries.filter((d) => d.state === 'failed').length,
        errors,
        notes,
      }
    })
  }

  /** Sends one delivery, retrying with exponential backoff while the budget allows (at most 3 tries). */
  async #attempt(delivery: Delivery, sink: ResolvedSink, deadline: number): Promise<Attempted> {
    let attempts = 0
    let outcome: SendOutcome = { ok: false, error: 'not sent: no time left' }
    for (let pause = 250; attempts < 3; pause *= 2) {
      const left = deadline - Date.now()
      if (left <= 0) break
      attempts++
      outcome = await sendOnce(delivery.event, sink, Math.min(sink.timeoutMs, left), this.#now())
      if (outcome.ok) break
      if (deadline - Date.now() <= pause + 50) break
      await sleep(pause)
    }
    return { key: delivery.key, outcome, attempts }
  }

  /** Adds a pending approval's statements, findings, rehearsal and database from the approval store. */
  async #enrich(events: readonly NotifyEvent[]): Promise<NotifyEvent[]> {
    const describe = this.#options.describeApproval
    if (describe === undefined) return [...events]
    const out: NotifyEvent[] = []
    for (const event of events) {
      if (event.type !== 'approval.requested' || event.approval === undefined) {
        out.push(event)
        continue
      }
      const details = await describe(event.approval.id).catch(() => undefined)
      if (details === undefined) {
        out.push(event)
        continue
      }
      out.push({
        ...event,
        ...(details.statements !== undefined && details.statements.length > 0
          ? { statements: details.statements }
          : {}),
        ...(details.rehearsal !== undefined ? { rehearsal: details.rehearsal } : {}),
        ...(details.database !== undefined ? { database: details.database } : {}),
        approval: { ...event.approval, ...(details.expiresAt !== undefined ? { expiresAt: details.expiresAt } : {}) },
      })
    }
    return out
  }
}

/** 1 s, 2 s, 4 s, ... up to an hour: the wait before the next command retries a failed delivery. */
export function backoffMs(attempts: number): number {
  return Math.min(3_600_000, 1_000 * 2 ** Math.max(0, attempts - 1))
}
