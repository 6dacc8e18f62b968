import { randomUUID } from 'node:crypto'
import { createContext, loadConfig } from '@ddl/executor/internal'
import { ApprovalStore, describeTarget, loadSettings } from '@ddl/mcp'
import { type ApprovalDetails, Notifier, type NotifyEvent, resolveSinks } from '@ddl/notify'
import type { Io } from './io.js'

/** What a command tells the notifier once its records are durable. */
export interface NotifyAfter {
  /** The audit log the command wrote (default: the one the project's context opens). */
  readonly auditPath?: string
  readonly project?: string | undefined
  /** When the command started: with no delivery state yet, older records are not notified. */
  readonly since: string
  /** Events no audit record carries (migration, verify), written to the delivery state before sending. */
  readonly events?: readonly NotifyEvent[]
}

/**
 * Delivers the notifications a command's records mean, after the records are durable, with a
 * budget of the sinks' timeout. Never changes the command's exit code: problems go to stderr only.
 * Does nothing (reads nothing but `ddl.config.json`) when no sink is configured. Never throws.
 */
export async function notifyAfter(io: Io, command: string, after: NotifyAfter): Promise<void> {
  try {
    const config = loadConfig(io.cwd)
    const notify = config.isOk() ? config.value.config.notify : undefined
    if (notify === undefined && (io.env.DDL_NOTIFY_URL ?? '').trim() === '') return
    const { sinks, problems } = resolveSinks(notify, io.env)
    for (const problem of problems) io.stderr(`ddl ${command}: notifications: ${problem}\n`)
    if (sinks.length === 0) return
    const auditPath = after.auditPath ?? auditPathOf(io, after.project)
    if (auditPath === undefined) return
    const notifier = Notifier.open({ auditPath, sinks, describeApproval: approvalDescriber(io) })
    const report = await notifier.deliverPending({
      since: after.since,
      ...(after.events ? { events: after.events } : {}),
    })
    if (report.isErr()) {
      io.stderr(`ddl ${command}: notifications: ${report.error.message}\n`)
      return
    }
    for (const line of report.value.errors)
      io.stderr(`ddl ${command}: notification not delivered (will retry): ${line}\n`)
  } catch (error) {
    io.stderr(`ddl ${command}: notifications: ${(error as Error).message}\n`)
  }
}

function auditPathOf(io: Io, project: string | undefined): string | undefined {
  const context = createContext(project, { cwd: io.cwd, env: io.env })
  return context.isOk() ? context.value.audit.log.path : undefined
}

/** Reads a pending approval's statements, findings, rehearsal and database from the approval store. */
export function approvalDescriber(io: Io): (id: string) => Promise<ApprovalDetails | undefined> {
  return async (id) => {
    const settings = loadSettings({ cwd: io.cwd }, io.env)
    if (settings.isErr()) return undefined
    const state = await new ApprovalStore(settings.value.approvals.dir).read(id)
    if (state.isErr() || state.value.request === undefined) return undefined
    return approvalDetails(state.value.request)
  }
}

/** An approval request as a notification shows it. Never throws. */
export function approvalDetails(request: {
  readonly statements: readonly {
    readonly line: number
    readonly display: string
    readonly tier: 'safe' | 'cautious' | 'destructive'
    readonly findings: readonly {
      readonly rule: string
      readonly tier: 'safe' | 'cautious' | 'destructive'
      readonly message: string
    }[]
  }[]
  readonly rehearsal: readonly string[] | undefined
  readonly target: Parameters<typeof describeTarget>[0]
  readonly expiresAt: string
}): ApprovalDetails {
  return {
    statements: request.statements.map((s) => ({
      sql: s.display,
      tier: s.tier,
      line: s.line,
      findings: s.findings.map((f) => ({ rule: f.rule, tier: f.tier, message: f.message })),
    })),
    ...(request.rehearsal !== undefined ? { rehearsal: request.rehearsal } : {}),
    database: describeTarget(request.target),
    expiresAt: request.expiresAt,
  }
}

/** A migration run as an event: applied (with the files), or failed (with the file and reason). */
export function migrationEvent(fields: {
  readonly failed: boolean
  readonly project: string
  readonly actor: string
  readonly dir: string
  readonly migrations: readonly string[]
  readonly tier?: 'safe' | 'cautious' | 'destructive'
  readonly reason?: string
}): NotifyEvent {
  return {
    id: `evt_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: fields.failed ? 'migration.failed' : 'migration.applied',
    time: new Date().toISOString(),
    project: fields.project,
    actor: fields.actor,
    source: fields.dir,
    migrations: fields.migrations,
    ...(fields.tier !== undefined ? { tier: fields.tier } : {}),
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
  }
}
