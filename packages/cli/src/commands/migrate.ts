import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type ClassifiedStatement, maxTier, requiredFlag, type Tier } from '@ddl/classifier'
import {
  classifySql,
  describeLayout,
  type ExecutorContext,
  type ExecutorError,
  type MigrateOptions,
  type MigrationEvent,
  type MigrationPlan,
  MigrationRunError,
  type MigrationStatus,
  migrateDirectory,
  migrateDown,
  planMigrationRun,
  planMigrations,
  readMigrationStatus,
} from '@ddl/executor/internal'
import { migrationBundle, type RequestedStatement, requestedStatements } from '@ddl/mcp'
import type { NotifyEvent } from '@ddl/notify'
import { type Command, InvalidArgumentError } from 'commander'
import { clearAgentWork, flagsAreRequests } from '../agent-approval.js'
import { SIGNAL_EXIT, whileInterruptible } from '../interrupt.js'
import { type Colors, colors, EXIT, type Io } from '../io.js'
import { migrationEvent, notifyAfter } from '../notify-after.js'
import type { CommandContext, Register } from '../program.js'
import { errorJson, exitCodeOf, openApi, parseRowLimit } from './exec.js'

const HELP = `
Applies the pending migrations of DIR, in order, each once. The layout is detected and named
(docs/layouts.md); a mixture of layouts is refused, and down migrations never run forward:
  flat                 DIR/*.sql, in natural order (2_x.sql before 10_y.sql)
  supabase             supabase/migrations/<timestamp>_<name>.sql
  postgres-migrations  *.sql with -- postgres-migrations ignore / disable-transaction markers
  prisma               DIR/<timestamp>_<name>/migration.sql (prisma/migrations)
  golang-migrate       <version>_<name>.up.sql (.down.sql only by ddl migrate down)
  dbmate               -- migrate:up section (transaction:false honoured; down section only by down)
  node-pg-migrate      -- Up Migration section (-- Down Migration only by down)
  diesel               <version>_<name>/up.sql (down.sql only by down; metadata.toml honoured)
  flyway               V<version>__<desc>.sql, then R__ repeatables (U undo files only by down)
  drizzle              NNNN_<name>.sql in meta/_journal.json order
Applied files are recorded in public.ddl_migrations (name, SHA-256 checksum, applied_at, duration,
tier, applied_by, transactional), created on the first run, and skipped afterwards. An applied file
whose bytes changed stops the run unless --accept-changed NAME (recorded and audited).

Before anything runs, every pending file is classified and gated: if any needs a flag not given,
nothing runs and each such file is listed with its tier and the flag. Flags apply to the whole run.
Each file then runs in its own transaction together with its tracking row (all or nothing per file),
under lock_timeout and statement_timeout. A failing file stops the run; earlier files stay applied.
A file of only CREATE INDEX CONCURRENTLY (or other statements Postgres cannot run in a transaction)
runs outside one, statement by statement; a file mixing both is refused. Two runners at once never
apply a file twice (a transaction-scoped advisory lock: it works through Supabase's pooler too).

Under a coding agent (CLAUDECODE, CURSOR_AGENT, CODEX_SANDBOX, GEMINI_CLI, or a variable named in
DDL_AGENT_MARKERS), --confirm and --i-know-what-im-doing are a request: the pending files become an
approval request (exit 1, with the ddl approve ID a person runs); then the same command runs once.
DDL_TRUST_AGENT_FLAGS=1 in the person's own environment turns this off (see docs/agents.md).

Exit codes: 0 applied (or nothing to apply; status without changed files; a plan that would run),
1 refused or failed (or a changed file in status), 2 usage, layout or configuration error,
130 interrupted (Ctrl-C; 143 for SIGTERM): the running statement is cancelled and its file rolled
back and audited as failed; files applied before stay applied; no later file starts.

Examples:
  $ ddl migrate migrations/
  $ ddl migrate prisma/migrations --plan
  $ ddl migrate prisma/migrations --i-know-what-im-doing --project smoothed
  $ ddl migrate status migrations/
  $ ddl migrate down db/migrations 2 --i-know-what-im-doing
  $ ddl migrate migrations/ --accept-changed 003_comments.sql
  $ ddl migrate migrations/ --wait 300 --lock-timeout 10s --json
Docs: docs/migrations.md`

interface MigrateCliOptions {
  readonly plan?: boolean
  readonly confirm?: boolean
  readonly iKnowWhatImDoing?: boolean
  /** False with --no-undo. */
  readonly undo?: boolean
  readonly acceptChanged?: readonly string[]
  readonly lockTimeout?: number
  readonly statementTimeout?: number
  readonly wait?: number
  readonly maxRows?: number
  readonly project?: string
  readonly json?: boolean
}

/** `5000`, `5000ms`, `5s`, `2m` → milliseconds. */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value)
  if (match === null) throw new InvalidArgumentError('give milliseconds, or a number with ms, s or m (5000, 5s, 2m).')
  const n = Number(match[1])
  const unit = (match[2] ?? 'ms').toLowerCase()
  const ms = Math.round(unit === 'm' ? n * 60_000 : unit === 's' ? n * 1000 : n)
  if (ms > 2_147_483_647) throw new InvalidArgumentError('too long.')
  return ms
}

function parseSeconds(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*s?\s*$/i.exec(value)
  if (match === null) throw new InvalidArgumentError('give a number of seconds (0: do not wait).')
  const ms = Math.round(Number(match[1]) * 1000)
  if (ms > 2_147_483_647) throw new InvalidArgumentError('too long.')
  return ms
}

function parseSteps(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw new InvalidArgumentError('give how many migrations to revert (1 or more).')
  }
  return Number(value)
}

function collect(value: string, previous: readonly string[] | undefined): readonly string[] {
  return [...(previous ?? []), value]
}

/** Registers `ddl migrate DIR` and `ddl migrate status DIR`. */
export const registerMigrate: Register = (program: Command, ctx: CommandContext) => {
  const migrate = program
    .command('migrate')
    .description(
      'apply a folder of migrations (flat, Prisma, golang-migrate, dbmate, Diesel, Flyway, Drizzle, ...), tracked, gated, each in its own transaction',
    )
    .argument('<dir>', 'the migrations folder')
    .option('--plan', 'show what would run (tier, findings, flags each file needs); run nothing')
    .option('--confirm', 'allow cautious files (DROP COLUMN, TRUNCATE, DELETE ... WHERE)')
    .option('--i-know-what-im-doing', 'allow destructive files (DROP TABLE, DELETE without WHERE)')
    .option('--no-undo', 'keep nothing for ddl undo for these files (audited)')
    .option('--accept-changed <name>', 'accept an applied file that changed (repeatable)', collect)
    .option('--lock-timeout <duration>', 'lock_timeout for the statements (5000, 5s)', parseDuration)
    .option('--statement-timeout <duration>', 'statement_timeout for the statements (60s, 2m)', parseDuration)
    .option('--wait <seconds>', 'how long to wait for another runner (default 60; 0: do not wait)', parseSeconds)
    .option(
      '--max-rows <n>',
      'roll back a file that deletes or updates more rows than this (triggers included)',
      parseRowLimit,
    )
    .option('--project <name>', 'a project of ddl.config.json (default: DDL_DATABASE_URL, then DATABASE_URL)')
    .option('--json', 'print the result as JSON (no progress lines)')
    .addHelpText('after', HELP)
    .action(async (dir: string, options: MigrateCliOptions) => {
      if (options.plan === true) {
        ctx.exitCode = await plan(ctx.io, dir, options)
        return
      }
      const since = new Date().toISOString()
      const events: NotifyEvent[] = []
      ctx.exitCode = await apply(ctx.io, dir, options, undefined, events)
      await notifyAfter(ctx.io, 'migrate', { project: options.project, since, events })
    })

  migrate
    .command('down')
    .description('revert the last N applied migrations (default 1) with their down migrations, gated and tracked')
    .argument('<dir>', 'the migrations folder')
    .argument('[steps]', 'how many migrations to revert, latest first', parseSteps, 1)
    .option('--confirm', 'allow cautious down migrations')
    .option('--i-know-what-im-doing', 'allow destructive down migrations (DROP TABLE)')
    .option('--lock-timeout <duration>', 'lock_timeout for the statements (5000, 5s)', parseDuration)
    .option('--statement-timeout <duration>', 'statement_timeout for the statements (60s, 2m)', parseDuration)
    .option('--wait <seconds>', 'how long to wait for another runner (default 60; 0: do not wait)', parseSeconds)
    .option('--project <name>', 'a project of ddl.config.json')
    .option('--json', 'print the result as JSON (no progress lines)')
    .action(async (dir: string, steps: number, options: MigrateCliOptions, command: Command) => {
      const since = new Date().toISOString()
      const events: NotifyEvent[] = []
      const merged = { ...migrate.opts(), ...command.opts(), ...options }
      ctx.exitCode = await apply(ctx.io, dir, merged, steps, events)
      await notifyAfter(ctx.io, 'migrate down', { project: merged.project, since, events })
    })

  migrate
    .command('status')
    .description('list each migration: applied, pending, changed since applied, claimed, or missing')
    .argument('<dir>', 'the migrations folder')
    .option('--project <name>', 'a project of ddl.config.json')
    .option('--json', 'print the status as JSON')
    .action(async (dir: string, options: MigrateCliOptions, command: Command) => {
      ctx.exitCode = await status(ctx.io, dir, { ...migrate.opts(), ...command.opts(), ...options })
    })
}

async function withApi<T>(
  io: Io,
  options: MigrateCliOptions,
  work: (ctx: ExecutorContext) => Promise<T>,
  onError: (error: ExecutorError) => T,
): Promise<T> {
  const db = openApi(io, options.project)
  try {
    const ctx = db.context()
    if (ctx.isErr()) return onError(ctx.error)
    // A lowering policy nobody approved is ignored: say so before any plan or run.
    if (ctx.value.policy.warning !== undefined) io.stderr(`ddl migrate: warning: ${ctx.value.policy.warning}\n`)
    return await work(ctx.value)
  } finally {
    await db.close()
  }
}

function exitCode(error: ExecutorError): number {
  if (error instanceof MigrationRunError && (error.problem === 'layout' || error.problem === 'options'))
    return EXIT.usage
  return exitCodeOf(error)
}

function fail(io: Io, command: string, error: ExecutorError, json: boolean | undefined): number {
  const c = colors(io)
  io.stderr(`${c.red(`ddl ${command}:`)} ${error.message}\n`)
  if (json === true) io.stdout(`${JSON.stringify({ ok: false, error: errorJson(error) }, null, 2)}\n`)
  return exitCode(error)
}

function runOptions(options: MigrateCliOptions, onProgress?: (event: MigrationEvent) => void): MigrateOptions {
  return {
    ...(options.confirm === true ? { confirm: true } : {}),
    ...(options.iKnowWhatImDoing === true ? { iKnowWhatImDoing: true } : {}),
    ...(options.acceptChanged !== undefined ? { acceptChanged: options.acceptChanged } : {}),
    ...(options.undo === false ? { noUndo: true } : {}),
    ...(options.lockTimeout !== undefined ? { lockTimeoutMs: options.lockTimeout } : {}),
    ...(options.statementTimeout !== undefined ? { statementTimeoutMs: options.statementTimeout } : {}),
    ...(options.wait !== undefined ? { waitMs: options.wait } : {}),
    ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
    ...(onProgress !== undefined ? { onProgress } : {}),
  }
}

/**
 * Under a coding agent, an override flag is a request: the pending files (each classified alone, as
 * the run classifies them) become a pending approval; after `ddl approve ID` the same command runs
 * once, with the flag the person approved. Returns the options to run with, or an exit code.
 */
async function agentOptions(io: Io, dir: string, options: MigrateCliOptions): Promise<MigrateCliOptions | number> {
  const typed =
    options.iKnowWhatImDoing === true ? '--i-know-what-im-doing' : options.confirm === true ? '--confirm' : undefined
  if (typed === undefined || !flagsAreRequests(io)) return options
  const where = resolve(io.cwd, dir)
  const planned = await planMigrations(where, {
    ...(options.project !== undefined ? { project: options.project } : {}),
    cwd: io.cwd,
    env: io.env,
    iKnowWhatImDoing: true,
  })
  if (planned.isErr()) return fail(io, 'migrate', planned.error, options.json)
  const db = openApi(io, options.project)
  try {
    const context = db.context()
    if (context.isErr()) return fail(io, 'migrate', context.error, options.json)
    const files: { name: string; sql: string }[] = []
    const statements: RequestedStatement[] = []
    const all: ClassifiedStatement[] = []
    let tier: Tier = 'safe'
    for (const p of planned.value.pending) {
      const text = await readFile(p.path, 'utf8')
      files.push({ name: p.name, sql: text })
      const one = await classifySql(text, context.value.classifyOptions, p.path)
      if (one.isErr()) return fail(io, 'migrate', one.error, options.json)
      statements.push(...requestedStatements(one.value, p.name))
      all.push(...one.value.statements)
      tier = maxTier(tier, maxTier(p.tier, one.value.tier))
    }
    const cleared = await clearAgentWork(
      io,
      db,
      {
        origin: `ddl migrate ${JSON.stringify(where)}`,
        project: options.project,
        sql: migrationBundle(files),
        files,
        plan: { statements: all, tier, requires: requiredFlag(tier), hasParseErrors: false },
        statements,
        tier,
        flag: typed,
      },
      'ddl migrate',
    )
    if (cleared.kind === 'stop') return cleared.code
    const { confirm: _c, iKnowWhatImDoing: _i, ...rest } = options
    return { ...rest, ...cleared.flags }
  } finally {
    await db.close()
  }
}

async function apply(
  io: Io,
  dir: string,
  requested: MigrateCliOptions,
  downSteps?: number,
  events: NotifyEvent[] = [],
): Promise<number> {
  if (
    downSteps !== undefined &&
    flagsAreRequests(io) &&
    (requested.confirm === true || requested.iKnowWhatImDoing === true)
  ) {
    // A down migration typed by an agent with an override flag: the approval flow plans forward files
    // only, so a person runs the down themselves.
    io.stderr(
      'ddl migrate down: a coding agent is running this command, so --confirm and --i-know-what-im-doing are requests, and a down migration cannot be requested yet. Ask a person to run it.\n',
    )
    return 1
  }
  const cleared = downSteps === undefined ? await agentOptions(io, dir, requested) : requested
  if (typeof cleared === 'number') return cleared
  const options = cleared
  const c = colors(io)
  const command = downSteps === undefined ? 'migrate' : 'migrate down'
  const json = options.json === true
  const progress = json ? undefined : progressPrinter(io, c, dir)
  const stopping = 'cancelling the running statement and rolling its file back'
  return whileInterruptible(io, 'migrate', stopping, ({ signal, received }) => {
    const interrupted = (code: number) => {
      const by = received()
      return by === undefined ? code : SIGNAL_EXIT[by]
    }
    return withApi(
      io,
      options,
      async (ctx) => {
        const run = { ...runOptions(options, progress), signal }
        const result =
          downSteps === undefined
            ? await migrateDirectory(ctx, resolve(io.cwd, dir), run)
            : await migrateDown(ctx, resolve(io.cwd, dir), { ...run, steps: downSteps })
        const who = { project: ctx.project, actor: ctx.audit.actor ?? ctx.audit.log.actor, dir }
        if (result.isErr()) {
          const error = result.error
          const file = 'file' in error && typeof error.file === 'string' ? error.file : undefined
          // Only a run that reached the database: a refusal before any file ran is the command's own output.
          if (error.kind === 'MigrationError' || error.kind === 'PostgresError')
            events.push(
              migrationEvent({
                ...who,
                failed: true,
                migrations: [
                  ...('applied' in error && Array.isArray(error.applied) ? error.applied : []),
                  ...(file !== undefined ? [file] : []),
                ],
                reason: error.message.split('\n')[0] ?? error.message,
              }),
            )
          return interrupted(fail(io, command, result.error, options.json))
        }
        const report = result.value
        if (report.applied.length > 0)
          events.push(
            migrationEvent({
              ...who,
              failed: false,
              migrations: report.applied.map((m) => m.name),
              tier: report.applied.some((m) => m.tier === 'destructive')
                ? 'destructive'
                : report.applied.some((m) => m.tier === 'cautious')
                  ? 'cautious'
                  : 'safe',
              ...(report.direction === 'down' ? { reason: 'reverted with down migrations' } : {}),
            }),
          )
        if (json) {
          io.stdout(`${JSON.stringify({ ok: true, result: report }, null, 2)}\n`)
          return interrupted(EXIT.ok)
        }
        for (const note of report.notes) io.stderr(`ddl migrate: note: ${note}\n`)
        io.stdout(`${c.green(report.message)}\n`)
        if (received() !== undefined) io.stderr('ddl migrate: interrupted after the last migration had finished.\n')
        return interrupted(EXIT.ok)
      },
      (error) => interrupted(fail(io, command, error, options.json)),
    )
  })
}

/** Prints one line per step as the run goes: the layout found, then each file's name, tier and time. */
function progressPrinter(io: Io, c: Colors, dir: string): (event: MigrationEvent) => void {
  let width = 0
  let down = false
  return (event) => {
    switch (event.type) {
      case 'found':
        io.stdout(
          `Found ${event.total} migration${event.total === 1 ? '' : 's'} in ${dir} (${describeLayout(event.layout)}); ` +
            `${event.pending} ${event.direction === 'down' ? 'to revert' : 'pending'}.\n`,
        )
        down = event.direction === 'down'
        width = Math.min(48, Math.max(0, ...event.names.map((n) => n.length)))
        break
      case 'applied': {
        const m = event.migration
        const mode = m.transactional ? '' : c.yellow('  outside a transaction')
        io.stdout(
          `  ${c.green(down ? 'reverted' : 'applied')}  ${m.name.padEnd(width)}  ${tierText(c, m.tier)}  ${formatMs(m.durationMs).padStart(8)}${mode}\n`,
        )
        break
      }
      case 'skipped':
        io.stdout(
          `  ${c.dim('skipped')}  ${event.name.padEnd(width)}  ${c.dim('applied by another runner meanwhile')}\n`,
        )
        break
      case 'waiting':
        io.stderr(`ddl migrate: waiting: ${event.reason}\n`)
        break
      case 'accepted':
        io.stdout(
          `  ${c.yellow('accepted')} ${event.change.name}: checksum ${event.change.previousChecksum.slice(0, 12)}… → ` +
            `${event.change.checksum.slice(0, 12)}…\n`,
        )
        break
    }
  }
}

function tierText(c: Colors, tier: string): string {
  const padded = tier.padEnd(11)
  return tier === 'destructive' ? c.red(padded) : tier === 'cautious' ? c.yellow(padded) : padded
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

async function plan(io: Io, dir: string, options: MigrateCliOptions): Promise<number> {
  return withApi(
    io,
    options,
    async (ctx) => {
      const result = await planMigrationRun(ctx, resolve(io.cwd, dir), runOptions(options))
      if (result.isErr()) return fail(io, 'migrate', result.error, options.json)
      const p = result.value
      if (options.json === true) io.stdout(`${JSON.stringify({ ok: true, result: p }, null, 2)}\n`)
      else io.stdout(planText(colors(io), dir, p))
      return p.wouldRun ? EXIT.ok : EXIT.failed
    },
    (error) => fail(io, 'migrate', error, options.json),
  )
}

function flagText(flag: string): string {
  return flag === 'confirm' ? '--confirm' : flag === 'iKnowWhatImDoing' ? '--i-know-what-im-doing' : 'no flag'
}

/** The plan as people read it. Exported for tests. */
export function planText(c: Colors, dir: string, p: MigrationPlan): string {
  const lines: string[] = []
  lines.push(
    `Plan for ${dir} (${describeLayout(p.layout)}): ${p.pending.length} pending of ${p.total}` +
      `${p.alreadyApplied.length > 0 ? ` (${p.alreadyApplied.length} applied)` : ''}. Nothing is run.`,
  )
  const width = Math.min(48, Math.max(0, ...p.pending.map((m) => m.name.length)))
  for (const m of p.pending) {
    const mode = m.transactional ? 'in a transaction' : 'outside a transaction (one statement at a time)'
    const stripped = m.strippedLines.length > 0 ? `; BEGIN/COMMIT at line ${m.strippedLines.join(', ')} taken out` : ''
    const mark = m.allowed ? c.green('ok     ') : c.red('refused')
    lines.push(
      `  ${mark}  ${m.name.padEnd(width)}  ${tierText(c, m.tier)}  ${flagText(m.requires).padEnd(23)}  ` +
        `${m.statements} statement${m.statements === 1 ? '' : 's'}, ${mode}${stripped}`,
    )
    for (const f of m.findings) {
      lines.push(`      line ${f.line} [${f.tier}/${f.severity}] ${f.rule}: ${f.message}`)
      if (f.hint !== '') lines.push(`        Hint: ${f.hint}`)
    }
    for (const issue of m.issues) if (issue.reason !== 'tier') lines.push(`      ${c.red('refused:')} ${issue.message}`)
  }
  for (const name of p.changed) lines.push(`  ${c.red('changed')}  ${name}: applied, but the file changed since`)
  for (const note of p.notes) lines.push(`Note: ${note}`)
  if (p.pending.length === 0 && p.changed.length === 0) lines.push('Nothing to apply.')
  else if (p.wouldRun) lines.push(`Would run${p.requires !== 'none' ? ` (needs ${flagText(p.requires)}: given)` : ''}.`)
  else lines.push(`Would be refused: run with the flags listed, fix the refused files, or accept changed ones.`)
  return `${lines.join('\n')}\n`
}

async function status(io: Io, dir: string, options: MigrateCliOptions): Promise<number> {
  return withApi(
    io,
    options,
    async (ctx) => {
      const result = await readMigrationStatus(ctx, resolve(io.cwd, dir))
      if (result.isErr()) return fail(io, 'migrate status', result.error, options.json)
      const s = result.value
      if (options.json === true) io.stdout(`${JSON.stringify({ ok: true, result: s }, null, 2)}\n`)
      else io.stdout(statusText(colors(io), dir, s))
      return s.counts.changed > 0 ? EXIT.failed : EXIT.ok
    },
    (error) => fail(io, 'migrate status', error, options.json),
  )
}

/** The status as people read it. Exported for tests. */
export function statusText(c: Colors, dir: string, s: MigrationStatus): string {
  const counts = (['applied', 'pending', 'changed', 'claimed', 'missing'] as const)
    .filter((k) => s.counts[k] > 0)
    .map((k) => `${s.counts[k]} ${k}`)
  const lines = [
    `Migrations in ${dir} (${describeLayout(s.layout)}): ${counts.join(', ')}` +
      `${s.tracking ? '' : ' (public.ddl_migrations does not exist yet)'}.`,
  ]
  const width = Math.min(48, Math.max(0, ...s.entries.map((e) => e.name.length)))
  for (const e of s.entries) {
    const state = e.state.padEnd(7)
    const painted =
      e.state === 'applied'
        ? c.green(state)
        : e.state === 'pending'
          ? c.yellow(state)
          : e.state === 'claimed'
            ? c.yellow(state)
            : c.red(state)
    let detail = ''
    if (e.appliedAt !== undefined) {
      const when = e.appliedAt.toISOString().replace('T', ' ').slice(0, 19)
      detail = `${when}  ${(e.tier ?? '').padEnd(11)}  ${formatMs(e.durationMs ?? 0).padStart(8)}  ${e.appliedBy ?? ''}`
      if (e.transactional === false) detail += '  outside a transaction'
    }
    if (e.state === 'changed') detail += '  (the file changed after it was applied)'
    if (e.state === 'missing') detail += '  (applied; the file is not in the folder)'
    if (e.claim !== undefined) {
      detail = `claimed by ${e.claim.claimedBy} at ${e.claim.claimedAt.toISOString()}${e.claim.alive ? ' (running)' : ' (its connection is gone: the next run takes it over)'}`
    }
    lines.push(`  ${painted}  ${e.name.padEnd(width)}  ${detail}`.trimEnd())
  }
  return `${lines.join('\n')}\n`
}
