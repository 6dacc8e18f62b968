import { createHash } from 'node:crypto'
import { type Stats, statSync } from 'node:fs'
import { lstat, readdir, readFile, stat } from 'node:fs/promises'
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { canonicalJson } from '@ddl/audit'
import {
  allRules,
  compareTiers,
  historyFindings,
  init,
  isSupabaseHost,
  isTier,
  type MigrationHistory,
  newMigrationHistory,
  type Plan,
  type Policy,
  PROFILES,
  type Profile,
  type Tier,
} from '@ddl/classifier'
import { allowEffectsProblem } from '@ddl/executor/internal'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { err, ok, type Result } from 'neverthrow'
import { githubReporter } from '../format/github.js'
import { gitlabReporter } from '../format/gitlab.js'
import { jsonReporter } from '../format/json.js'
import type { CheckedFile, FailOn, Reporter, RunSummary } from '../format/report.js'
import { sarifReporter } from '../format/sarif.js'
import { renderSummary, textReporter } from '../format/text.js'
import { applyIgnores } from '../ignores.js'
import { colors, EXIT, type Io } from '../io.js'
import type { CommandContext, Register } from '../program.js'
import { classifyFile, classifyText, type FileInput, type Input, ioReason, type Outcome } from './check-core.js'
import { parallelSplit, startWorker, threadsSetting } from './check-parallel.js'

export { type CheckSettings, classifyForCheck } from './check-core.js'

const FORMATS = ['text', 'json', 'sarif', 'github', 'gitlab'] as const
type Format = (typeof FORMATS)[number]
const FAIL_ON = ['safe', 'cautious', 'destructive', 'never'] as const

const HELP = `
Classifies every statement with the real Postgres grammar, without a database: safe, cautious or
destructive, plus operational hazards (locks, rewrites). Statements the grammar rejects are at least
cautious. Directories are searched for *.sql files (sorted; hidden directories and node_modules are
skipped). Policy comes from --config, else ddl.config.json ("policy"), else package.json
("safe-ddl": { "policy": ... }) in the working directory.

Files are read in order and what they define (tables, column types, functions, enums) is carried to
the next, so a later type change knows the old type; down migrations (down.sql, *.down.sql) are
checked on their own. --profile supabase (also on when ddl.config.json says "profile": "supabase" or
DDL_DATABASE_URL / DATABASE_URL points at a supabase.co / supabase.com host) knows auth.uid() and the
other Supabase helpers and adds Supabase's security lints (docs/supabase.md).

A comment "-- ddl:ignore <rule-id> <reason>" on or above a statement silences that hazard finding
(shown as suppressed in JSON and SARIF). It cannot lower a tier.

Exit codes: 0 nothing at or above --fail-on, 1 a statement at or above it,
            2 usage or I/O error (missing file, no .sql in a directory, invalid UTF-8, bad config).

Examples:
  $ ddl check migrations/
  $ ddl check db/001_init.sql db/002_users.sql --fail-on cautious
  $ git diff --name-only -- '*.sql' | xargs ddl check --format github
  $ ddl check migrations --format sarif > safe-ddl.sarif
  $ ddl check migrations --format gitlab > gl-code-quality-report.json
  $ echo 'DROP TABLE users' | ddl check - --format json
Docs: docs/cli/check.md`

interface CheckOptions {
  readonly format: Format
  readonly failOn: FailOn
  readonly config?: string
  readonly pgVersion?: number
  readonly profile?: Profile | 'none'
}

/** Parses `--pg-version`: a Postgres major version. */
export function parsePgVersion(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 9 || n > 99) {
    throw new InvalidArgumentError('expected a Postgres major version, e.g. 16.')
  }
  return n
}

/** Registers `ddl check [paths...]`. */
export const registerCheck: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('check')
    .description('classify SQL files without a database: safe, cautious or destructive, with hazards')
    .argument('[paths...]', 'SQL files, directories (every *.sql below them), or - for standard input')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('text'))
    .addOption(
      new Option('--fail-on <tier>', 'exit 1 when a statement is at or above this tier')
        .choices(FAIL_ON)
        .default('destructive'),
    )
    .option('--config <path>', 'a ddl.config.json or package.json holding the policy')
    .option('--pg-version <n>', 'Postgres major version the advice is for (default: config, else 14)', parsePgVersion)
    .addOption(
      new Option('--profile <name>', 'platform profile (default: config, else from the connection host)').choices([
        ...PROFILES,
        'none',
      ]),
    )
    .addHelpText('after', HELP)
    .action(async (paths: string[], options: CheckOptions) => {
      ctx.exitCode = await check(ctx.io, paths, options)
    })
}

async function check(io: Io, paths: readonly string[], options: CheckOptions): Promise<number> {
  const fail = (message: string) => {
    io.stderr(`ddl check: ${message}\n`)
    return EXIT.usage
  }
  if (paths.length === 0) {
    return fail('no paths given. Pass .sql files or directories, or - to read standard input (ddl check --help).')
  }

  // Load the parser (WebAssembly) while the configuration and the inputs are read: it needs neither.
  const parser: Promise<{ error: unknown } | undefined> = init().then(
    () => undefined,
    (error: unknown) => ({ error }),
  )

  const config = await loadCheckConfig(io.cwd, options.config)
  if (config.isErr()) return fail(config.error)
  const policy = config.value.policy
  const pgVersion = options.pgVersion ?? config.value.pgVersion
  // A linter runs nothing: it applies the whole policy, and marks each finding it lowered.
  const policyHash = policy === undefined ? undefined : hashOf(policy)

  const threads = threadsSetting(io.env)
  if (!threads.ok) return fail(threads.error)
  const inputs = await collectInputs(io.cwd, paths)
  if (inputs.isErr()) {
    for (const message of inputs.error) io.stderr(`ddl check: ${message}\n`)
    return EXIT.usage
  }

  const loaded = await parser
  if (loaded !== undefined) {
    const { error } = loaded
    return fail(
      `the Postgres parser (libpg-query) could not be loaded: ${error instanceof Error ? error.message : String(error)}. Reinstall with pnpm install.`,
    )
  }

  const profile = resolveProfile(io, options.profile, config.value.profile)
  const reporter = makeReporter(io, options.format)
  const byTier: Record<Tier, number> = { safe: 0, cautious: 0, destructive: 0 }
  let files = 0
  let statements = 0
  let unparsed = 0
  let highest: Tier = 'safe'
  let unreadable = 0
  // One directory: a migration history read from its first migration, so what no earlier file
  // created does not exist yet (see MigrationHistory.fromStart). Loose files may meet anything.
  const fromStart = inputs.value.length > 0 && oneDirectory(io.cwd, paths)
  let history: MigrationHistory = newMigrationHistory({ fromStart })
  // The Supabase lints decided at the end of the run land on earlier files: hold the files until then.
  const held: { file: CheckedFile; script: number | undefined }[] = []
  const hold = profile !== undefined

  const report = (file: CheckedFile) => {
    const ignored = applyIgnores(file.source, file.plan)
    for (const problem of ignored.problems) io.stderr(`ddl check: ${file.path}:${problem.line}: ${problem.message}\n`)
    const shown: CheckedFile = { ...file, plan: ignored.plan, suppressed: ignored.suppressed }
    files++
    for (const statement of shown.plan.statements) {
      statements++
      byTier[statement.verdict.tier]++
      if (statement.kind === 'Unparsed') unparsed++
      if (compareTiers(statement.verdict.tier, highest) > 0) highest = statement.verdict.tier
    }
    reporter.file(shown)
  }

  const settings = {
    ...(policy === undefined || policyHash === undefined ? {} : { policy, policyHash }),
    pgVersion,
    ...(profile === undefined ? {} : { profile }),
  }
  const take = (input: Input, outcome: Outcome) => {
    const shown = input.kind === 'stdin' ? '<stdin>' : input.path
    if (outcome.kind === 'error') {
      io.stderr(`ddl check: ${shown}: ${outcome.message}\n`)
      unreadable++
      return
    }
    const file: CheckedFile = {
      path: shown,
      uri: input.kind === 'stdin' ? 'stdin' : input.uri,
      source: outcome.source,
      plan: outcome.plan,
    }
    if (hold) held.push({ file, script: outcome.script })
    else report(file)
  }

  // DDL_CHECK_THREADS=2: a worker thread classifies the last files (check-parallel.ts). The main
  // thread classifies the others, then reports every file in order.
  const split = parallelSplit(inputs.value, threads.value)
  const end = split ?? inputs.value.length
  const worker =
    split === undefined ? undefined : startWorker(inputs.value as FileInput[], split, settings, hold, history)

  // One file at a time: read, classify, report, let go (held to the end with a profile).
  for (let i = 0; i < end; i++) {
    const input = inputs.value[i] as Input
    if (input.kind === 'stdin') {
      let text: string
      try {
        text = await io.readStdin()
      } catch (error) {
        take(input, { kind: 'error', message: `standard input cannot be read (${ioReason(error)}).` })
        continue
      }
      take(input, classifyText(text, '<stdin>', settings, history))
    } else take(input, classifyFile(input, settings, history))
  }
  if (worker !== undefined) {
    for (let i = end; i < inputs.value.length; i++) take(inputs.value[i] as Input, await worker.next())
    if (hold) history = await worker.history()
  }
  if (hold) {
    const late = historyFindings(history, {
      ...(profile === undefined ? {} : { profile }),
      ...(policy === undefined ? {} : { policy }),
    })
    for (const { file, script } of held) {
      const mine = late.filter((l) => l.origin.script === script)
      report(mine.length === 0 ? file : { ...file, plan: withLateFindings(file.plan, mine, policy) })
    }
  }

  const failed =
    options.failOn !== 'never' &&
    statements > 0 &&
    (Object.keys(byTier) as Tier[]).some((tier) => byTier[tier] > 0 && compareTiers(tier, options.failOn as Tier) >= 0)
  const summary: RunSummary = {
    files,
    statements,
    byTier,
    unparsed,
    tier: highest,
    failOn: options.failOn,
    failed,
    unreadable,
  }
  reporter.end(summary)
  if (unreadable > 0) return EXIT.usage
  return failed ? EXIT.failed : EXIT.ok
}

/**
 * The profile of the run: `--profile`, else the configuration's "profile", else `supabase` when
 * DDL_DATABASE_URL / DATABASE_URL names a Supabase host (only the host is read; the URL is never shown).
 */
function resolveProfile(
  io: Io,
  flag: Profile | 'none' | undefined,
  configured: Profile | undefined,
): Profile | undefined {
  if (flag !== undefined) return flag === 'none' ? undefined : flag
  if (configured !== undefined) return configured
  for (const variable of ['DDL_DATABASE_URL', 'DATABASE_URL']) {
    const url = io.env[variable]
    if (url === undefined || url.trim() === '') continue
    try {
      return isSupabaseHost(new URL(url.trim()).hostname) ? 'supabase' : undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

/** Adds end-of-run findings to the statements they name; a hazard raises a tier only as policy says. */
function withLateFindings(plan: Plan, late: ReturnType<typeof historyFindings>, policy: Policy | undefined): Plan {
  const order = ['info', 'warning', 'error']
  const raiseAt = policy?.hazardsRaiseTier
  const statements = plan.statements.map((statement, i) => {
    const mine = late.filter((l) => l.origin.statement === i).map((l) => l.finding)
    if (mine.length === 0) return statement
    const raise = raiseAt !== undefined && mine.some((f) => order.indexOf(f.severity) >= order.indexOf(raiseAt))
    const tier: Tier = raise && statement.verdict.tier === 'safe' ? 'cautious' : statement.verdict.tier
    return { ...statement, verdict: { ...statement.verdict, tier, findings: [...statement.verdict.findings, ...mine] } }
  })
  const tier = statements.reduce<Tier>((t, s) => (compareTiers(s.verdict.tier, t) > 0 ? s.verdict.tier : t), 'safe')
  return { ...plan, statements, tier }
}

function makeReporter(io: Io, format: Format): Reporter {
  const c = colors(io)
  switch (format) {
    case 'text':
      return textReporter(io.stdout, c)
    case 'json':
      return jsonReporter(io.stdout)
    case 'sarif':
      return sarifReporter(io.stdout)
    case 'gitlab':
      return gitlabReporter(io.stdout)
    case 'github':
      return githubReporter(io.stdout, (summary) => renderSummary(summary, c))
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs

function displayPath(cwd: string, absolute: string): { path: string; uri: string } {
  const rel = relative(cwd, absolute)
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) {
    const posix = rel.split(sep).join('/')
    return { path: posix, uri: posix.split('/').map(encodeURIComponent).join('/') }
  }
  return { path: absolute, uri: pathToFileURL(absolute).href }
}

/** Every `*.sql` below `dir`, skipping hidden directories, node_modules and symlinked directories. */
async function sqlFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (at: string): Promise<void> => {
    const entries = await readdir(at, { withFileTypes: true })
    for (const entry of entries) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && entry.name !== 'node_modules') await walk(path)
      } else if (entry.name.toLowerCase().endsWith('.sql')) {
        if (entry.isFile()) found.push(path)
        else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile() === true)
          found.push(path)
      }
    }
  }
  await walk(dir)
  return found.sort(migrationOrder)
}

/**
 * The order a migrations directory applies in, as `ddl migrate` reads it: natural order, so
 * `2_add.sql` comes before `10_drop.sql` (digit runs compare as numbers; timestamps keep their order),
 * ties broken by code units. The carried history depends on it: read out of order, a later file's
 * `CREATE TABLE IF NOT EXISTS` would be taken for the first.
 */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' })
function migrationOrder(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

/** True when the paths name exactly one directory (a migrations directory read from its start). */
function oneDirectory(cwd: string, paths: readonly string[]): boolean {
  if (paths.length !== 1 || paths[0] === '-') return false
  try {
    return statSync(resolve(cwd, paths[0] as string)).isDirectory()
  } catch {
    return false
  }
}

/** Resolves the paths to inputs, in order, without duplicates. Fails with every problem found. */
async function collectInputs(cwd: string, paths: readonly string[]): Promise<Result<Input[], string[]>> {
  const inputs: Input[] = []
  const problems: string[] = []
  const seen = new Set<string>()
  let stdin = false
  const add = (absolute: string) => {
    if (seen.has(absolute)) return
    seen.add(absolute)
    inputs.push({ kind: 'file', absolute, ...displayPath(cwd, absolute) })
  }
  for (const path of paths) {
    if (path === '-') {
      if (!stdin) inputs.push({ kind: 'stdin' })
      stdin = true
      continue
    }
    const absolute = resolve(cwd, path)
    let info: Stats
    try {
      // Synchronous, like the reads: one path after another, each await was a thread-pool round trip.
      info = statSync(absolute)
    } catch (error) {
      const reason = ioReason(error)
      problems.push(
        reason === 'no such file or directory'
          ? `${path}: no such file or directory. Check the path (relative paths start at ${cwd}).`
          : `${path}: cannot be read (${reason}).`,
      )
      continue
    }
    if (info.isDirectory()) {
      const files = await sqlFilesUnder(absolute).catch((error: unknown) => error)
      if (!Array.isArray(files)) {
        problems.push(`${path}: the directory cannot be read (${ioReason(files)}).`)
      } else if (files.length === 0) {
        problems.push(`${path}: no .sql files in this directory. Pass .sql files, or a directory that holds some.`)
      } else {
        for (const file of files) add(file)
      }
    } else {
      add(absolute)
    }
  }
  return problems.length > 0 ? err(problems) : ok(inputs)
}

// ---------------------------------------------------------------------------------------------
// Configuration

/** The settings `ddl check` reads from the configuration. */
export interface CheckConfig {
  readonly policy?: Policy
  readonly pgVersion?: number
  readonly profile?: Profile
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const knownRules: ReadonlySet<string> = new Set([
  ...allRules.map((rule) => rule.id),
  'unparsed-statement',
  'unparsed-destructive',
])

/** The token fallback's rules, and the tier policy can never take them below. */
const UNPARSED_FLOOR: ReadonlyMap<string, Tier> = new Map<string, Tier>([
  ['unparsed-statement', 'cautious'],
  ['unparsed-destructive', 'destructive'],
])

/** Checks the shape of a policy, so a typo never silently weakens or drops a rule. */
function checkPolicy(raw: unknown, where: string): Result<Policy, string> {
  const bad = (message: string) => err(`${where}: ${message} See docs/cli/check.md.`)
  if (!isRecord(raw)) return bad('"policy" must be an object.')
  for (const key of Object.keys(raw)) {
    if (key !== 'rules' && key !== 'allow' && key !== 'hazardsRaiseTier' && key !== 'allowEffects') {
      return bad(`unknown policy key "${key}" (known: rules, allow, hazardsRaiseTier, allowEffects).`)
    }
  }
  // allowEffects is read by the executor's effect check (ddl check classifies text only).
  const effects = allowEffectsProblem(raw.allowEffects)
  if (effects !== undefined) return bad(effects)
  if (raw.rules !== undefined) {
    if (!isRecord(raw.rules)) return bad('"policy.rules" must map rule ids to a tier or "off".')
    for (const [rule, value] of Object.entries(raw.rules)) {
      if (!knownRules.has(rule)) return bad(`unknown rule "${rule}" in policy.rules.`)
      if (value !== 'off' && !isTier(value)) {
        return bad(`policy.rules["${rule}"] must be "safe", "cautious", "destructive" or "off".`)
      }
      const floor = UNPARSED_FLOOR.get(rule)
      if (floor !== undefined && (value === 'off' || compareTiers(value, floor) < 0)) {
        return bad(`policy.rules["${rule}"] cannot lower it: text the grammar rejects is never below ${floor}.`)
      }
    }
  }
  if (raw.allow !== undefined) {
    if (!Array.isArray(raw.allow)) return bad('"policy.allow" must be a list of { rule, objects, tier? }.')
    for (const [i, entry] of raw.allow.entries()) {
      if (!isRecord(entry) || typeof entry.rule !== 'string') return bad(`policy.allow[${i}] needs a "rule".`)
      if (!knownRules.has(entry.rule)) return bad(`unknown rule "${entry.rule}" in policy.allow[${i}].`)
      if (UNPARSED_FLOOR.has(entry.rule)) {
        return bad(`policy.allow[${i}]: "${entry.rule}" cannot be allowed through; fix the statement's syntax instead.`)
      }
      if (
        !Array.isArray(entry.objects) ||
        entry.objects.length === 0 ||
        !entry.objects.every((o) => typeof o === 'string')
      ) {
        return bad(`policy.allow[${i}].objects must be a non-empty list of names or globs.`)
      }
      if (entry.tier !== undefined && !isTier(entry.tier)) {
        return bad(`policy.allow[${i}].tier must be "safe", "cautious" or "destructive".`)
      }
    }
  }
  if (
    raw.hazardsRaiseTier !== undefined &&
    raw.hazardsRaiseTier !== 'error' &&
    raw.hazardsRaiseTier !== 'warning' &&
    raw.hazardsRaiseTier !== 'info'
  ) {
    return bad('"policy.hazardsRaiseTier" must be "error", "warning" or "info".')
  }
  return ok(raw as Policy)
}

async function readJson(path: string): Promise<Result<unknown, string>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return err(`${path}: cannot be read (${ioReason(error)}).`)
  }
  try {
    return ok(JSON.parse(text) as unknown)
  } catch (error) {
    return err(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function fromSection(section: Record<string, unknown>, where: string, required: boolean): Result<CheckConfig, string> {
  let policy: Policy | undefined
  if (section.policy !== undefined) {
    const checked = checkPolicy(section.policy, where)
    if (checked.isErr()) return err(checked.error)
    policy = checked.value
  } else if (required) {
    return err(`${where} has no "policy". Add one, or leave out --config.`)
  }
  let pgVersion: number | undefined
  if (section.pgVersion !== undefined) {
    const v = section.pgVersion
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 9 || v > 99) {
      return err(`${where}: "pgVersion" must be a Postgres major version, e.g. 16.`)
    }
    pgVersion = v
  }
  let profile: Profile | undefined
  if (section.profile !== undefined) {
    if (!PROFILES.includes(section.profile as Profile)) {
      return err(`${where}: "profile" must be one of ${PROFILES.map((p) => `"${p}"`).join(', ')}.`)
    }
    profile = section.profile as Profile
  }
  return ok({
    ...(policy === undefined ? {} : { policy }),
    ...(pgVersion === undefined ? {} : { pgVersion }),
    ...(profile === undefined ? {} : { profile }),
  })
}

/**
 * The policy (and pgVersion) for the run: from `--config` (a ddl.config.json, or a package.json's
 * "safe-ddl" key), else `ddl.config.json` in `cwd`, else `package.json`'s "safe-ddl" key in `cwd`.
 */
export async function loadCheckConfig(cwd: string, explicit: string | undefined): Promise<Result<CheckConfig, string>> {
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit)
    const raw = await readJson(path)
    if (raw.isErr()) return err(raw.error)
    if (!isRecord(raw.value)) return err(`${explicit} must hold a JSON object.`)
    if (basename(path) === 'package.json') {
      const section = raw.value['safe-ddl']
      if (!isRecord(section)) return err(`${explicit} has no "safe-ddl" object. Add "safe-ddl": { "policy": { ... } }.`)
      return fromSection(section, `${explicit} ("safe-ddl")`, true)
    }
    return fromSection(raw.value, explicit, true)
  }
  const configPath = join(cwd, 'ddl.config.json')
  if ((await lstat(configPath).catch(() => undefined)) !== undefined) {
    const raw = await readJson(configPath)
    if (raw.isErr()) return err(raw.error)
    if (!isRecord(raw.value)) return err('ddl.config.json must hold a JSON object.')
    return fromSection(raw.value, 'ddl.config.json', false)
  }
  const packagePath = join(cwd, 'package.json')
  if ((await lstat(packagePath).catch(() => undefined)) !== undefined) {
    const raw = await readJson(packagePath)
    if (raw.isErr()) return err(raw.error)
    if (isRecord(raw.value) && isRecord(raw.value['safe-ddl'])) {
      return fromSection(raw.value['safe-ddl'], 'package.json ("safe-ddl")', false)
    }
  }
  return ok({})
}

/** The policy's hash as `ddl policy` and the executor compute it (SHA-256 of its canonical JSON). */
function hashOf(policy: Policy): string {
  return createHash('sha256')
    .update(canonicalJson(policy as unknown as Parameters<typeof canonicalJson>[0]), 'utf8')
    .digest('hex')
}
