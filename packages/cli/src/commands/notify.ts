import { createContext, loadConfig } from '@ddl/executor/internal'
import { Notifier, resolveSinks } from '@ddl/notify'
import type { Command } from 'commander'
import { EXIT, type Io } from '../io.js'
import { approvalDescriber } from '../notify-after.js'
import type { CommandContext, Register } from '../program.js'

const HELP = `
Notifications are derived from the audit log's records (the log is the outbox) and sent after each
ddl exec, ddl migrate, ddl approve and ddl audit verify, and after each MCP tool call, within the
sinks' timeout (3 s by default). What could not be delivered is kept in <audit log>.notify.json and
retried by the next command, with exponential backoff; a dead sink never fails a run.
Sinks: "notify" in ddl.config.json, or DDL_NOTIFY_URL (+ DDL_NOTIFY_SECRET, DDL_NOTIFY_KIND).

Exit codes: 0 nothing owed (--status) or all delivered (--retry); 1 deliveries owed or failed, or a
sink cannot be used; 2 usage.

Examples:
  $ ddl notify --status
  $ ddl notify --retry
Docs: docs/notifications.md`

interface NotifyOptions {
  readonly status?: boolean
  readonly retry?: boolean
  readonly log?: string
  readonly project?: string
  readonly json?: boolean
}

/** Registers `ddl notify --status | --retry`. */
export const registerNotify: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('notify')
    .description('show or retry notification deliveries (Slack, signed webhooks)')
    .option('--status', 'show the sinks, the cursor in the audit log, and deliveries owed')
    .option('--retry', 'send every delivery owed now, failed ones too')
    .option('--log <path>', "the audit log (default: the project's, else $DDL_AUDIT_LOG, else ~/.safe-ddl/audit.jsonl)")
    .option('--project <name>', 'a project of ddl.config.json (for its audit log)')
    .option('--json', 'print JSON')
    .addHelpText('after', HELP)
    .action(async (options: NotifyOptions) => {
      ctx.exitCode = await notify(ctx.io, options)
    })
}

async function notify(io: Io, options: NotifyOptions): Promise<number> {
  if (options.status === true && options.retry === true) {
    io.stderr('ddl notify: give --status or --retry, not both. (ddl notify --help)\n')
    return EXIT.usage
  }
  const config = loadConfig(io.cwd)
  if (config.isErr()) {
    io.stderr(`ddl notify: ${config.error.message}\n`)
    return EXIT.usage
  }
  const { sinks, problems } = resolveSinks(config.value.config.notify, io.env)
  let auditPath = options.log
  if (auditPath === undefined) {
    const context = createContext(options.project, { cwd: io.cwd, env: io.env })
    if (context.isErr()) {
      io.stderr(`ddl notify: ${context.error.message}\n`)
      return EXIT.usage
    }
    auditPath = context.value.audit.log.path
  }
  const notifier = Notifier.open({ auditPath, sinks, describeApproval: approvalDescriber(io) })
  if (options.retry === true) {
    const report = await notifier.deliverPending({ force: true })
    if (report.isErr()) {
      io.stderr(`ddl notify: ${report.error.message}\n`)
      return EXIT.failed
    }
    for (const problem of problems) io.stderr(`ddl notify: ${problem}\n`)
    for (const line of report.value.errors) io.stderr(`ddl notify: not delivered: ${line}\n`)
    if (options.json === true) io.stdout(`${JSON.stringify({ ok: true, result: report.value }, null, 2)}\n`)
    else
      io.stdout(
        `Delivered ${report.value.delivered}; ${report.value.pending} pending, ${report.value.failed} failed.\n`,
      )
    return report.value.pending + report.value.failed === 0 && problems.length === 0 ? EXIT.ok : EXIT.failed
  }
  const status = await notifier.status()
  if (status.isErr()) {
    io.stderr(`ddl notify: ${status.error.message}\n`)
    return EXIT.failed
  }
  const s = status.value
  if (options.json === true) {
    const deliveries = s.deliveries.map((d) => ({
      event: d.event.id,
      type: d.event.type,
      sink: d.sinkLabel,
      state: d.state,
      attempts: d.attempts,
      nextAttemptAt: d.nextAttemptAt,
      ...(d.lastError !== undefined ? { lastError: d.lastError } : {}),
    }))
    io.stdout(`${JSON.stringify({ ...s, deliveries, problems }, null, 2)}\n`)
  } else {
    const lines = [
      `Sinks: ${s.sinks.length === 0 ? 'none configured' : s.sinks.map((x) => x.label).join(', ')}`,
      ...problems.map((p) => `  cannot use ${p}`),
      `State: ${s.statePath}`,
      `Audit log read up to record ${s.cursor?.seq ?? 0}; ${s.delivered} delivered${s.lastDeliveredAt !== undefined ? ` (last at ${s.lastDeliveredAt})` : ''}.`,
      s.deliveries.length === 0 ? 'Nothing owed.' : `Owed: ${s.deliveries.length}`,
      ...s.deliveries.map(
        (d) =>
          `  ${d.state.padEnd(7)} ${d.event.type.padEnd(19)} ${d.event.id} to ${d.sinkLabel}: ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastError !== undefined ? `, last: ${d.lastError}` : ''}${d.state === 'pending' ? `, next after ${d.nextAttemptAt}` : ''}`,
      ),
      ...s.notes.map((n) => `note: ${n}`),
    ]
    io.stdout(`${lines.join('\n')}\n`)
  }
  return s.deliveries.length === 0 && problems.length === 0 ? EXIT.ok : EXIT.failed
}
