import { type ApprovalDetails, Notifier, resolveSinks } from '@ddl/notify'
import { ApprovalStore } from './approval-store.js'
import { describeTarget } from './projects.js'
import type { McpSettings } from './settings.js'

/** The server's notifier: delivery rounds one after the other, never awaited by a tool call. */
export interface Notifications {
  /** Starts a delivery round after the current one (at most one waits). Never throws. */
  kick(): void
  /** Waits for the rounds under way (each bounded by the sinks' timeout). Never throws. */
  settle(): Promise<void>
}

/**
 * Notifications for the server: sinks from `ddl.config.json` as read at start and from `env`
 * (the server's own environment: URLs and secrets never come from files an agent can write), the
 * audit log resolved at start. Records written before the server started are not notified unless a
 * delivery state already exists. Never throws.
 */
export function startNotifications(
  settings: McpSettings,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
): Notifications {
  const { sinks, problems } = resolveSinks(settings.snapshot.config.config.notify, env)
  for (const problem of problems) log(`notifications: ${problem}`)
  if (sinks.length === 0) return { kick: () => undefined, settle: async () => undefined }
  const since = new Date().toISOString()
  const store = new ApprovalStore(settings.approvals.dir)
  const notifier = Notifier.open({
    auditPath: settings.snapshot.auditPath,
    sinks,
    describeApproval: async (id): Promise<ApprovalDetails | undefined> => {
      const state = await store.read(id)
      const request = state.isOk() ? state.value.request : undefined
      if (request === undefined) return undefined
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
    },
  })
  let running: Promise<void> = Promise.resolve()
  let queued = false
  const round = async () => {
    queued = false
    const report = await notifier.deliverPending({ since })
    if (report.isErr()) log(`notifications: ${report.error.message}`)
    else for (const line of report.value.errors) log(`notification not delivered (will retry): ${line}`)
  }
  return {
    kick() {
      if (queued) return
      queued = true
      running = running.then(round).catch((error: unknown) => log(`notifications: ${(error as Error).message}`))
    },
    settle: () => running,
  }
}
