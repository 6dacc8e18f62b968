import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import {
  AUDIT_TIERS,
  type AuditError,
  AuditLog,
  type AuditRecord,
  type AuditTier,
  formatSeedLine,
  type VerifyReport,
} from '@ddl/audit'
import { escapeControls } from '@ddl/mcp'
import type { NotifyEvent } from '@ddl/notify'
import { type Command, InvalidArgumentError } from 'commander'
import { type Colors, colors, EXIT, type Io } from '../io.js'
import { notifyAfter } from '../notify-after.js'
import type { CommandContext, Register } from '../program.js'

const LOG_HELP = 'the audit log file (default: $DDL_AUDIT_LOG, else ~/.safe-ddl/audit.jsonl)'

const GROUP_HELP = `
The audit log records every gated statement: an intent before it is sent, then its outcome.
Each record is chained to the one before it by a SHA-256 hash, so an edit shows. Docs: docs/audit.md

Examples:
  $ ddl audit verify
  $ ddl audit show --since 24h --tier destructive
`

const VERIFY_HELP = `
Prints "ok: N records, head <hash>" and exits 0 when every record is intact. Note the head hash
somewhere else: if the file is later cut short, the head changes; --head <hash> checks that a record
with that hash is still in the chain. Each append also notes the head beside the log (<log>.head),
and verify checks the log still reaches it. Exits 1 and names the first bad line when a record was
edited, deleted, inserted or moved, or the end was cut off; exits 2 when the file cannot be read.

Examples:
  $ ddl audit verify
  $ ddl audit verify --log /var/log/ddl/audit.jsonl
  $ ddl audit verify --head 3f1c0e...   (a head printed earlier)
  $ ddl audit verify --json
`

const SHOW_HELP = `
One line per record, in the one-line format:
  2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True
Outcomes other than committed end with a marker (| BLOCKED, | DRY RUN, | FAILED, ...). An intent is
hidden once a record with the same runId holds its outcome; an intent with no outcome is shown
(| INTENT): the process stopped after recording it. --all shows every record.
Times are UTC. --since takes a date (2026-01-29), a time (2026-01-29T10:00:00Z) or a duration (90m, 24h, 7d).
--json prints JSON Lines: one full record per line, as stored.

Examples:
  $ ddl audit show --since 2026-01-29 --project smoothed
  $ ddl audit show --tier destructive --all
  $ ddl audit show --since 7d --json | jq -r .statement
`

interface LogOptions {
  readonly log?: string
  readonly json?: boolean
}

interface VerifyCommandOptions extends LogOptions {
  readonly head?: string
}

function parseHead(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError('expected a head hash: 64 hex digits.')
  return value.toLowerCase()
}

interface ShowOptions extends LogOptions {
  readonly since?: Date
  readonly project?: string
  readonly tier?: AuditTier
  readonly all?: boolean
}

/** Registers `ddl audit verify` and `ddl audit show`. */
export const registerAudit: Register = (program: Command, ctx: CommandContext) => {
  const audit = program
    .command('audit')
    .description('check and read the tamper-evident audit log')
    .addHelpText('after', GROUP_HELP)

  audit
    .command('verify')
    .description('check the hash chain; print the record count and head hash')
    .option('--log <path>', LOG_HELP)
    .option('--json', 'print the report as one JSON object')
    .option('--head <hash>', 'a head hash noted earlier: fail unless a record still has it', parseHead)
    .addHelpText('after', VERIFY_HELP)
    .action(async (options: VerifyCommandOptions) => {
      ctx.exitCode = await verify(ctx.io, options)
    })

  audit
    .command('show')
    .description('list records, one line each')
    .option('--log <path>', LOG_HELP)
    .option('--since <date>', 'only records at or after this time (UTC), or within this duration', parseSince)
    .option('--project <name>', 'only records of this project')
    .option('--tier <tier>', `only records of this tier (${AUDIT_TIERS.join(', ')})`, parseTier)
    .option('--all', 'also show intents whose outcome was recorded')
    .option('--json', 'print JSON Lines, one full record per line')
    .addHelpText('after', SHOW_HELP)
    .action(async (options: ShowOptions) => {
      ctx.exitCode = await show(ctx.io, options)
    })
}

function openLog(io: Io, options: LogOptions): AuditLog {
  return AuditLog.open({ env: io.env, cwd: io.cwd, ...(options.log === undefined ? {} : { path: options.log }) })
}

async function verify(io: Io, options: VerifyCommandOptions): Promise<number> {
  const since = new Date().toISOString()
  const log = openLog(io, options)
  const result = await log.verify(options.head === undefined ? {} : { head: options.head })
  let verifyFailed: { path: string; reason: string; line: number | undefined } | undefined
  const code = result.match(
    (report) => {
      if (options.json === true) io.stdout(`${JSON.stringify({ path: log.path, ...report })}\n`)
      else io.stdout(`${describe(report, log.path)}\n`)
      if (!report.ok) {
        verifyFailed = { path: log.path, reason: report.reason, line: report.line }
        io.stderr(
          `Records from line ${report.line} on cannot be trusted. Keep ${log.path} unchanged as evidence, and ` +
            'compare it with a backup or with a head hash noted earlier.\n',
        )
        return EXIT.failed
      }
      if (!existsSync(log.path)) io.stderr(`note: there is no audit log at ${log.path} yet.\n`)
      return EXIT.ok
    },
    (error) => fail(io, 'verify', error),
  )
  if (verifyFailed !== undefined) {
    // No record can carry it (the chain itself is broken): the event is written to the delivery state first.
    const event: NotifyEvent = {
      id: `evt_verify_${createHash('sha256').update(`${verifyFailed.path}\n${verifyFailed.reason}`).digest('hex').slice(0, 16)}`,
      type: 'audit.verify_failed',
      time: new Date().toISOString(),
      project: 'default',
      actor: log.actor,
      source: verifyFailed.path,
      reason: `${verifyFailed.reason}${verifyFailed.line !== undefined ? ` (line ${verifyFailed.line})` : ''}`,
    }
    await notifyAfter(io, 'audit verify', { auditPath: log.path, since, events: [event] })
  }
  return code
}

function describe(report: VerifyReport, path: string): string {
  if (report.ok) return `ok: ${report.records} records, head ${report.headHash}`
  return `broken: ${report.reason} (${report.records} lines in ${path})`
}

async function show(io: Io, options: ShowOptions): Promise<number> {
  const log = openLog(io, options)
  const result = await log.read()
  return result.match(
    (records) => {
      const c = colors(io)
      for (const record of selectRecords(records, options)) {
        io.stdout(
          options.json === true
            ? `${JSON.stringify(record)}\n`
            : `${paint(c, record, escapeControls(formatSeedLine(record)))}\n`,
        )
      }
      if (records.length === 0 && !existsSync(log.path)) io.stderr(`note: there is no audit log at ${log.path} yet.\n`)
      return EXIT.ok
    },
    (error) => fail(io, 'show', error),
  )
}

/**
 * The records `show` prints, oldest first: every outcome, and every intent that no record with the
 * same `runId` answers (unless `--all`), then the filters.
 */
function selectRecords(records: readonly AuditRecord[], options: ShowOptions): AuditRecord[] {
  const answered = new Set<string>()
  for (const record of records) {
    if (record.outcome !== 'intent' && record.runId !== undefined) answered.add(record.runId)
  }
  const since = options.since?.getTime()
  return records.filter(
    (record) =>
      (options.all === true ||
        record.outcome !== 'intent' ||
        record.runId === undefined ||
        !answered.has(record.runId)) &&
      (since === undefined || Date.parse(record.time) >= since) &&
      (options.project === undefined || record.project === options.project) &&
      (options.tier === undefined || record.tier === options.tier),
  )
}

function paint(c: Colors, record: AuditRecord, line: string): string {
  if (record.tier === 'destructive') return c.red(line)
  if (record.tier === 'cautious') return c.yellow(line)
  return line
}

function fail(io: Io, command: string, error: AuditError): number {
  io.stderr(`ddl audit ${command}: ${error.message}\n`)
  return EXIT.usage
}

const DURATION = /^(\d+)\s*(m|min|h|d|w)$/i
const UNIT_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** `--since`: a date or time (UTC unless it says otherwise), or a duration back from now. */
function parseSince(value: string): Date {
  const trimmed = value.trim()
  const duration = DURATION.exec(trimmed)
  if (duration !== null) {
    const unit = UNIT_MS[(duration[2] ?? '').toLowerCase()] ?? 0
    return new Date(Date.now() - Number(duration[1]) * unit)
  }
  let iso = trimmed.replace(' ', 'T')
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00Z'
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso += 'Z'
  const date = new Date(iso)
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('Give a date (2026-01-29), a time (2026-01-29T10:00:00Z) or a duration (24h, 7d).')
  }
  return date
}

function parseTier(value: string): AuditTier {
  const tier = value.trim().toLowerCase()
  if (!(AUDIT_TIERS as readonly string[]).includes(tier)) {
    throw new InvalidArgumentError(`Give one of ${AUDIT_TIERS.join(', ')}.`)
  }
  return tier as AuditTier
}
