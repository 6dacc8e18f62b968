import { resolve } from 'node:path'
import {
  classifySql,
  type ExecuteOutcome,
  type ExecuteResult,
  type ExecutorError,
  type GateFlags,
  PostgresAPI,
  readSqlFile,
  renderSafetyError,
} from '@ddl/executor/internal'
import { requestedStatements } from '@ddl/mcp'
import { type Command, InvalidArgumentError } from 'commander'
import { clearAgentWork, flagsAreRequests } from '../agent-approval.js'
import { colors, EXIT, type Io } from '../io.js'
import { notifyAfter } from '../notify-after.js'
import type { CommandContext, Register } from '../program.js'

const HELP = `
Classifies the SQL with the real Postgres grammar, gates it on its tier, records the intent in the
audit log, then runs every statement alone in one transaction (lock_timeout and statement_timeout
set) and commits. Any error rolls everything back. What the run removes (rows, dropped tables,
definitions) is kept in the ddl_undo schema in the same transaction: ddl undo ID puts it back
(--json: result.undo.id; --no-undo gives that up for this run; see docs/undo.md).
  safe         runs as is
  cautious     needs --confirm                (DROP COLUMN, TRUNCATE, DELETE/UPDATE with WHERE)
  destructive  needs --i-know-what-im-doing   (DROP TABLE, DELETE without WHERE, ...)
--dry-run classifies only (no database needed). --rehearse runs it in a transaction that is always
rolled back and reports rows, locks, rewrites and what CASCADE takes; it needs no flag.
BEGIN/COMMIT/ROLLBACK are refused. CREATE INDEX CONCURRENTLY and VACUUM run alone, outside a
transaction. The connection comes from --project (ddl.config.json) or DDL_DATABASE_URL / DATABASE_URL.
A policy in ddl.config.json that lowers a tier applies only once a person approved it (ddl policy).

Under a coding agent (CLAUDECODE, CURSOR_AGENT, CODEX_SANDBOX, GEMINI_CLI, or a variable named in
DDL_AGENT_MARKERS), --confirm and --i-know-what-im-doing are a request, not a permission: the work
becomes a pending approval (the same store as the MCP server's), the command exits 1 and prints the
ddl approve ID a person runs in their own terminal; then the same command runs once. A person who
accepts flags typed under an agent sets DDL_TRUST_AGENT_FLAGS=1 in their own environment (an agent
can set it for a command it runs too: this is detection, not a boundary; see docs/agents.md).

Exit codes: 0 done (or a dry run that would run), 1 refused or failed, 2 usage, input or configuration error.

Examples:
  $ ddl exec "CREATE TABLE campaigns (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL)"
  $ ddl exec "ALTER TABLE users ADD COLUMN phone text" --project smoothed
  $ ddl exec "TRUNCATE test_data" --confirm
  $ ddl exec "DROP TABLE old_backup" --i-know-what-im-doing
  $ ddl exec -f migrations/004_orders.sql --rehearse
  $ ddl exec "CREATE TABLE test (id int)" --dry-run
  $ cat change.sql | ddl exec -f - --json
Docs: docs/executor.md, docs/configuration.md`

interface ExecOptions {
  readonly file?: string
  readonly confirm?: boolean
  readonly iKnowWhatImDoing?: boolean
  readonly dryRun?: boolean
  readonly rehearse?: boolean
  readonly maxRows?: number
  readonly project?: string
  readonly json?: boolean
  /** False with --no-undo. */
  readonly undo?: boolean
}

/** Options every database command shares. */
export interface ConnectionOptions {
  readonly project?: string
  readonly json?: boolean
}

/** A PostgresAPI reading `ddl.config.json`, `.env` and the environment of the command. */
export function openApi(io: Io, project: string | undefined, source?: string): PostgresAPI {
  return new PostgresAPI(project, {
    cwd: io.cwd,
    env: io.env,
    flagStyle: 'cli',
    ...(source !== undefined ? { source } : {}),
  })
}

/** The exit code of an error: 2 for usage, input and configuration; 1 for refused or failed work. */
export function exitCodeOf(error: ExecutorError): number {
  switch (error.kind) {
    case 'InputError':
    case 'ConfigError':
      return EXIT.usage
    case 'SafetyError':
    case 'ParseError':
    case 'ConnectionError':
    case 'PostgresError':
    case 'MigrationError':
    case 'AuditError':
    case 'UndoError':
      return EXIT.failed
    default: {
      const never: never = error
      return never
    }
  }
}

/** An error as people read it, with the flags named as on the command line and a next step. */
export function errorText(error: ExecutorError): string {
  switch (error.kind) {
    case 'SafetyError':
      return renderSafetyError(error, 'cli')
    case 'PostgresError':
      return error.line !== undefined && error.code !== '55P03' && error.code !== '57014'
        ? `${error.message}\nFix the statement at line ${error.line} and run it again.`
        : error.message
    default:
      return error.message
  }
}

/** An error as JSON: its kind, message and own fields, without the `cause`. */
export function errorJson(error: ExecutorError): Record<string, unknown> {
  const fields: Record<string, unknown> = { kind: error.kind, message: errorText(error) }
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'cause' && key !== 'kind' && value !== undefined) fields[key] = value
  }
  return fields
}

/** Writes an error (stderr; also stdout as JSON with --json) and returns its exit code. */
export function reportError(io: Io, command: string, error: ExecutorError, json: boolean | undefined): number {
  const c = colors(io)
  io.stderr(`${c.red(`ddl ${command}:`)} ${errorText(error)}\n`)
  if (json === true) io.stdout(`${JSON.stringify({ ok: false, error: errorJson(error) }, null, 2)}\n`)
  return exitCodeOf(error)
}

/** `--max-rows N`: a whole number of rows, 0 or more. */
export function parseRowLimit(value: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) throw new InvalidArgumentError('give a whole number of rows (0 or more).')
  return Number(value.trim())
}

/** Registers `ddl exec [SQL] [-f FILE]`. */
export const registerExec: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('exec')
    .description('run SQL through the safety gate, in a transaction, audited')
    .argument('[sql]', 'the SQL to run (or use -f FILE)')
    .option('-f, --file <path>', 'read the SQL from a file (- for standard input)')
    .option('--confirm', 'allow cautious statements (DROP COLUMN, TRUNCATE, DELETE ... WHERE)')
    .option('--i-know-what-im-doing', 'allow destructive statements (DROP TABLE, DELETE without WHERE)')
    .option('--dry-run', 'classify and show the plan; send nothing (no database needed)')
    .option('--rehearse', 'run in a transaction that is always rolled back, and report what it did')
    .option('--no-undo', 'keep nothing for ddl undo for this run (audited); needed above undo.maxBytes')
    .option(
      '--max-rows <n>',
      'roll back if it deletes or updates more rows than this (triggers included)',
      parseRowLimit,
    )
    .option('--project <name>', 'a project of ddl.config.json (default: DDL_DATABASE_URL, then DATABASE_URL)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', HELP)
    .action(async (sql: string | undefined, options: ExecOptions) => {
      const since = new Date().toISOString()
      ctx.exitCode = await exec(ctx.io, sql, options)
      // After the records are durable; never changes the exit code.
      if (options.dryRun !== true) await notifyAfter(ctx.io, 'exec', { project: options.project, since })
    })
}

function usage(io: Io, message: string): number {
  io.stderr(`ddl exec: ${message} (ddl exec --help)\n`)
  return EXIT.usage
}

async function exec(io: Io, sql: string | undefined, options: ExecOptions): Promise<number> {
  if (sql !== undefined && options.file !== undefined)
    return usage(io, 'give the SQL as an argument or with -f, not both.')
  if (sql === undefined && options.file === undefined) return usage(io, 'give the SQL to run, or -f FILE.')
  if (options.dryRun === true && options.rehearse === true) {
    return usage(io, '--dry-run sends nothing and --rehearse runs and rolls back: choose one.')
  }
  let text: string
  let source: string
  if (options.file !== undefined) {
    if (options.file === '-') {
      text = await io.readStdin()
      source = 'stdin'
    } else {
      const read = await readSqlFile(resolve(io.cwd, options.file))
      if (read.isErr()) return reportError(io, 'exec', read.error, options.json)
      text = read.value
      source = options.file
    }
  } else {
    text = sql ?? ''
    source = 'cli'
  }
  const db = openApi(io, options.project, source)
  try {
    let flags: GateFlags = {
      ...(options.confirm === true ? { confirm: true } : {}),
      ...(options.iKnowWhatImDoing === true ? { iKnowWhatImDoing: true } : {}),
    }
    let run = db
    const typed =
      options.iKnowWhatImDoing === true ? '--i-know-what-im-doing' : options.confirm === true ? '--confirm' : undefined
    if (typed !== undefined && options.dryRun !== true && options.rehearse !== true && flagsAreRequests(io)) {
      // Under a coding agent the flag is a request: the work waits for a person's approval.
      const context = db.context()
      if (context.isErr()) return reportError(io, 'exec', context.error, options.json)
      const plan = await classifySql(text, context.value.classifyOptions)
      if (plan.isErr()) return reportError(io, 'exec', plan.error, options.json)
      const cleared = await clearAgentWork(
        io,
        db,
        {
          origin: 'ddl exec',
          project: options.project,
          sql: text,
          plan: plan.value,
          statements: requestedStatements(plan.value),
          tier: plan.value.tier,
          flag: typed,
        },
        'ddl exec',
      )
      if (cleared.kind === 'stop') return cleared.code
      flags = cleared.flags
      if (cleared.source !== undefined) run = openApi(io, options.project, cleared.source)
    }
    const result = await run.execute(text, {
      ...flags,
      ...(options.dryRun === true ? { dryRun: true } : {}),
      ...(options.rehearse === true ? { rehearse: true } : {}),
      ...(options.undo === false ? { noUndo: true } : {}),
      ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
    })
    if (run !== db) await run.close()
    if (result.isErr()) {
      // On success the result's warnings say it; a refusal must say it too.
      const context = db.context()
      const warning = context.isOk() ? context.value.policy.warning : undefined
      if (warning !== undefined)
        io.stderr(`ddl exec: warning: ${warning}
`)
      return reportError(io, 'exec', result.error, options.json)
    }
    return report(io, result.value, options.json === true)
  } finally {
    await db.close()
  }
}

/** The outcome without parse trees, for --json. */
function outcomeJson(outcome: ExecuteOutcome): unknown {
  if (outcome.mode !== 'dry-run') return outcome
  const { plan, ...rest } = outcome
  return {
    ...rest,
    statements: plan.statements.map((s) => ({
      line: s.span.line,
      column: s.span.column,
      kind: s.kind,
      tier: s.verdict.tier,
      transactional: s.verdict.transactional,
      lock: s.verdict.lock,
      rewrite: s.verdict.rewrite,
      findings: s.verdict.findings,
    })),
  }
}

function report(io: Io, outcome: ExecuteOutcome, json: boolean): number {
  const code = outcome.mode === 'dry-run' && !outcome.wouldRun ? EXIT.failed : EXIT.ok
  for (const warning of outcome.warnings) io.stderr(`ddl exec: warning: ${warning}\n`)
  if (json) {
    io.stdout(`${JSON.stringify({ ok: true, result: outcomeJson(outcome) }, null, 2)}\n`)
    return code
  }
  switch (outcome.mode) {
    case 'executed':
      io.stdout(executed(io, outcome))
      break
    case 'dry-run':
    case 'rehearsal':
      io.stdout(`${outcome.message}\n`)
      break
  }
  return code
}

function executed(io: Io, result: ExecuteResult): string {
  const c = colors(io)
  const lines = [c.green(result.message)]
  for (const s of result.statements) {
    const count = s.rowCount !== null ? ` ${s.rowCount} row${s.rowCount === 1 ? '' : 's'}` : ''
    lines.push(`  line ${s.line}  ${s.command ?? s.kind}${count}  ${c.dim(s.statement)}`)
  }
  return `${lines.join('\n')}\n`
}
