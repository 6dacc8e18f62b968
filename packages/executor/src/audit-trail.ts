import { randomUUID } from 'node:crypto'
import type { AuditEntry, AuditError, AuditFlags, AuditLog, AuditOutcome } from '@ddl/audit'
import type { ClassifiedStatement, Tier } from '@ddl/classifier'
import type { ResultAsync } from 'neverthrow'

/** Who is acting on what, for every record of a run. */
export interface AuditScope {
  readonly log: AuditLog
  /** The project name, or `'default'`. */
  readonly project: string
  /** Where the SQL came from (a file, `cli`, a migration). */
  readonly source?: string
  readonly actor?: string
}

/** What happened to one statement, beyond its outcome. */
export interface OutcomeDetails {
  readonly rowsAffected?: number | undefined
  readonly durationMs?: number | undefined
  readonly sqlstate?: string | undefined
  readonly error?: string | undefined
  /** The undo link (`kept:<id>`, `given-up`, ...). */
  readonly undo?: string | undefined
}

/** One statement of a run, with the id that links its intent to its outcome. */
export interface AuditedStatement {
  readonly statement: ClassifiedStatement
  readonly runId: string
}

/** Gives each statement a fresh `runId` (one intent, one outcome). Never throws. */
export function auditIds(statements: readonly ClassifiedStatement[]): AuditedStatement[] {
  return statements.map((statement) => ({ statement, runId: randomUUID() }))
}

/** The four flags of an audit record. Never throws. */
export function auditFlags(flags: {
  readonly confirm?: boolean | undefined
  readonly iKnowWhatImDoing?: boolean | undefined
  readonly dryRun?: boolean | undefined
  readonly rehearse?: boolean | undefined
}): AuditFlags {
  return {
    confirm: flags.confirm === true,
    iKnowWhatImDoing: flags.iKnowWhatImDoing === true,
    dryRun: flags.dryRun === true,
    rehearse: flags.rehearse === true,
  }
}

/** The audit entry of one statement. The log redacts `statement` and `error` again before writing. */
export function auditEntry(
  scope: AuditScope,
  item: AuditedStatement,
  flags: AuditFlags,
  outcome: AuditOutcome,
  details: OutcomeDetails = {},
): AuditEntry {
  const tier: Tier = item.statement.verdict.tier
  return {
    project: scope.project,
    tier,
    statement: item.statement.text,
    flags,
    outcome,
    runId: item.runId,
    ...(scope.source !== undefined ? { source: scope.source } : {}),
    ...(scope.actor !== undefined ? { actor: scope.actor } : {}),
    ...(details.rowsAffected !== undefined && Number.isSafeInteger(details.rowsAffected) && details.rowsAffected >= 0
      ? { rowsAffected: details.rowsAffected }
      : {}),
    ...(details.durationMs !== undefined ? { durationMs: Math.max(0, Math.round(details.durationMs)) } : {}),
    ...(details.sqlstate !== undefined ? { sqlstate: details.sqlstate } : {}),
    ...(details.error !== undefined ? { error: details.error.slice(0, 2000) } : {}),
    ...policyOf(item.statement),
    ...(details.undo !== undefined ? { undo: details.undo } : {}),
  }
}

/** The policy lowerings of a verdict, as the audit record carries them. */
function policyOf(statement: ClassifiedStatement): Pick<AuditEntry, 'policy'> {
  const lowered = statement.verdict.lowered
  if (lowered === undefined || lowered.length === 0) return {}
  const hash = lowered.find((l) => l.policyHash !== undefined)?.policyHash
  return {
    policy: {
      ...(hash !== undefined ? { hash } : {}),
      lowered: lowered.map((l) => ({ rule: l.rule, from: l.from, to: l.to })),
    },
  }
}

/**
 * Appends one entry per statement, all in one batch: fsynced before it resolves (`flush: 'now'`,
 * always for intents), or made durable by the next fsync of the log (`with-next`, for outcomes; see
 * docs/audit.md). Used for intents (before anything is sent), outcomes, refusals and dry runs. Fails
 * with `AuditError` when nothing could be recorded.
 */
export function recordAll(
  scope: AuditScope,
  items: readonly AuditedStatement[],
  flags: AuditFlags,
  outcome: AuditOutcome | ((item: AuditedStatement, index: number) => AuditOutcome),
  details: (item: AuditedStatement, index: number) => OutcomeDetails = () => ({}),
  flush: 'now' | 'with-next' = 'now',
): ResultAsync<unknown, AuditError> {
  const entries = items.map((item, index) =>
    auditEntry(
      scope,
      item,
      flags,
      typeof outcome === 'function' ? outcome(item, index) : outcome,
      details(item, index),
    ),
  )
  return scope.log.append(entries, { flush })
}
