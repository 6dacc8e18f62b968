import { createHash } from 'node:crypto'
import { userInfo } from 'node:os'
import { resolve } from 'node:path'
import { loadConfig, loadEnv, resolveConnection } from '@ddl/executor/internal'
import type { NotifyEvent } from '@ddl/notify'
import {
  type DriftReport,
  detectDrift,
  diffSources,
  renderJson,
  renderSql,
  renderStatement,
  resolveSource,
  type SchemaError,
  writeMigration,
} from '@ddl/schema'
import type { Command } from 'commander'
import { EXIT, type Io } from '../io.js'
import { notifyAfter } from '../notify-after.js'
import type { CommandContext, Register } from '../program.js'

const DIFF_HELP = `
FROM and TO are each a database URL (postgres://...), a project of ddl.config.json, a migrations
directory (any layout ddl migrate reads) or a schema .sql file. A directory or file is applied to a
scratch database on a throwaway Postgres (or on --shadow), never to your database.

The output is SQL that turns FROM into TO, in dependency order. Every statement is classified by the
same classifier as ddl check; its tier, lock and findings precede it as -- comments, so psql applies
the output as it is. A table or column dropped while one of the same shape is added is reported as a
possible rename with both alternatives; by default the statements RENAME (the data is kept).

Exit codes: 0 done (with --exit-code: no difference), 1 they differ (--exit-code) or failed, 2 usage.

Examples:
  $ ddl diff migrations prod                      # what migrations lack of production
  $ ddl diff prod migrations --exit-code          # CI: fail when production differs
  $ ddl diff supabase/migrations dev --write supabase/migrations
  $ ddl diff schema.sql postgres://localhost/app --format json
Docs: docs/diff.md`

const DRIFT_HELP = `
Replays the migrations the database has applied (rows of public.ddl_migrations) on a scratch database
of a throwaway Postgres (or --shadow), then compares both catalogs: objects added, changed or removed
outside migrations, tracked files edited since they were applied, and applied migrations missing
from DIR. The database is only read.

Exit codes: 0 no drift, 1 drift or failed, 2 usage or configuration error.

Examples:
  $ ddl drift migrations
  $ ddl drift --project prod supabase/migrations --format json
Docs: docs/diff.md`

interface DiffOptions {
  readonly exitCode?: boolean
  readonly format?: string
  readonly write?: string
  readonly name?: string
  readonly shadow?: string
  readonly renames?: string
}

interface DriftOptions {
  readonly project?: string
  readonly format?: string
  readonly shadow?: string
}

/** Registers `ddl diff FROM TO`. */
export const registerDiff: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('diff')
    .description('the SQL that turns one schema into another, every statement classified')
    .argument('<from>', 'database URL, project, migrations directory or .sql file')
    .argument('<to>', 'database URL, project, migrations directory or .sql file')
    .option('--exit-code', 'exit 1 when the schemas differ')
    .option('--format <format>', 'sql (default) or json', 'sql')
    .option('--write <dir>', 'write the SQL as the next migration of DIR, in its layout')
    .option('--name <name>', 'the name of the written migration', 'schema_diff')
    .option('--renames <choice>', 'rename (default: keep the data) or drop-create', 'rename')
    .option('--shadow <url>', 'a Postgres superuser URL where scratch databases may be created')
    .addHelpText('after', DIFF_HELP)
    .action(async (from: string, to: string, options: DiffOptions) => {
      ctx.exitCode = await diff(ctx.io, from, to, options)
    })
}

/** Registers `ddl drift [DIR]`. */
export const registerDrift: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('drift')
    .description('the live database against what its applied migrations produce')
    .argument('[dir]', 'the migrations directory', 'migrations')
    .option('--project <name>', 'a project of ddl.config.json (default: DDL_DATABASE_URL, then DATABASE_URL)')
    .option('--format <format>', 'text (default) or json', 'text')
    .option('--shadow <url>', 'a Postgres superuser URL where scratch databases may be created')
    .addHelpText('after', DRIFT_HELP)
    .action(async (dir: string, options: DriftOptions) => {
      ctx.exitCode = await drift(ctx.io, dir, options)
    })
}

function fail(io: Io, command: string, error: SchemaError | { readonly message: string }): number {
  io.stderr(`ddl ${command}: ${error.message}\n`)
  return EXIT.failed
}

async function diff(io: Io, fromArg: string, toArg: string, options: DiffOptions): Promise<number> {
  if (options.format !== 'sql' && options.format !== 'json') {
    io.stderr(`ddl diff: --format must be sql or json, not ${options.format ?? ''}.\n`)
    return EXIT.usage
  }
  if (options.renames !== 'rename' && options.renames !== 'drop-create') {
    io.stderr(`ddl diff: --renames must be rename or drop-create, not ${options.renames ?? ''}.\n`)
    return EXIT.usage
  }
  const context = { cwd: io.cwd, env: io.env }
  const from = await resolveSource(fromArg, context)
  if (from.isErr()) return usageOrFail(io, 'diff', from.error)
  const to = await resolveSource(toArg, context)
  if (to.isErr()) return usageOrFail(io, 'diff', to.error)
  const result = await diffSources(from.value, to.value, {
    renames: options.renames,
    ...(options.shadow !== undefined ? { shadowUrl: options.shadow } : {}),
  })
  if (result.isErr()) return fail(io, 'diff', result.error)
  const d = result.value
  const sql = renderSql(d, d)
  if (options.write !== undefined) {
    if (d.statements.length === 0) {
      io.stderr('ddl diff: the schemas are the same; no migration written.\n')
    } else {
      const written = await writeMigration(resolve(io.cwd, options.write), sql, options.name ?? 'schema_diff')
      if (written.isErr()) return fail(io, 'diff', written.error)
      io.stderr(`ddl diff: wrote ${written.value.path} (${written.value.layout} layout).\n`)
    }
  }
  io.stdout(options.format === 'json' ? renderJson(d, d) : sql)
  return options.exitCode === true && d.statements.length > 0 ? EXIT.failed : EXIT.ok
}

function usageOrFail(io: Io, command: string, error: SchemaError): number {
  io.stderr(`ddl ${command}: ${error.message}\n`)
  return error.problem === 'source' ? EXIT.usage : EXIT.failed
}

async function drift(io: Io, dir: string, options: DriftOptions): Promise<number> {
  if (options.format !== 'text' && options.format !== 'json') {
    io.stderr(`ddl drift: --format must be text or json, not ${options.format ?? ''}.\n`)
    return EXIT.usage
  }
  const config = loadConfig(io.cwd)
  if (config.isErr()) return fail(io, 'drift', config.error)
  const env = loadEnv(io.cwd, io.env)
  if (env.isErr()) return fail(io, 'drift', env.error)
  const target = resolveConnection(options.project, config.value, env.value)
  if (target.isErr()) {
    io.stderr(`ddl drift: ${target.error.message}\n`)
    return EXIT.usage
  }
  const since = new Date().toISOString()
  const label = options.project !== undefined ? `project ${options.project}` : `$${target.value.variable ?? 'URL'}`
  const report = await detectDrift({ url: target.value.url, label }, resolve(io.cwd, dir), {
    ...(options.shadow !== undefined ? { shadowUrl: options.shadow } : {}),
  })
  if (report.isErr()) return fail(io, 'drift', report.error)
  io.stdout(options.format === 'json' ? `${JSON.stringify(report.value, null, 2)}\n` : driftText(report.value))
  if (report.value.drifted) await notifyDrift(io, report.value, options.project, since)
  return report.value.drifted ? EXIT.failed : EXIT.ok
}

/**
 * The drift.found notification: no audit record carries drift (nothing ran), so the event is written
 * to the delivery state first, then sent; the same drift gives the same event id, so a receiver sees
 * one event however often `ddl drift` runs while it lasts. A dead sink never changes the exit code.
 */
async function notifyDrift(io: Io, report: DriftReport, project: string | undefined, since: string): Promise<void> {
  const o = report.objects
  const parts = [
    o.added.length > 0 ? `${o.added.length} added` : '',
    o.removed.length > 0 ? `${o.removed.length} removed` : '',
    o.changed.length > 0 ? `${o.changed.length} changed` : '',
    report.changedFiles.length > 0 ? `${report.changedFiles.length} tracked file(s) edited since applied` : '',
    report.missingFiles.length > 0 ? `${report.missingFiles.length} applied file(s) missing` : '',
  ].filter((p) => p !== '')
  const reason = `${report.database}: ${parts.join(', ')} outside migrations`
  const event: NotifyEvent = {
    id: `evt_drift_${createHash('sha256')
      .update(JSON.stringify([report.database, o, report.changedFiles, report.missingFiles]))
      .digest('hex')
      .slice(0, 16)}`,
    type: 'drift.found',
    time: new Date().toISOString(),
    project: project ?? 'default',
    actor: actorOf(io),
    source: report.directory,
    reason,
    migrations: [...report.changedFiles.map((f) => f.name), ...report.missingFiles],
  }
  await notifyAfter(io, 'drift', { since, events: [event], ...(project !== undefined ? { project } : {}) })
}

function actorOf(io: Io): string {
  const named = io.env.DDL_ACTOR
  if (named !== undefined && named.trim() !== '') return named.trim()
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

function driftText(r: DriftReport): string {
  const lines = [`Drift of ${r.database} against ${r.directory} (${r.replayed.length} applied migrations replayed).`]
  if (!r.drifted) {
    lines.push('No drift: the database is what its applied migrations produce.')
    if (r.pending.length > 0) lines.push(`${r.pending.length} migrations are not applied yet: ${r.pending.join(', ')}.`)
    return `${lines.join('\n')}\n`
  }
  for (const f of r.changedFiles) lines.push(`changed file  ${f.name}: edited since it was applied`)
  for (const name of r.missingFiles) lines.push(`missing file  ${name}: applied, but no longer in the directory`)
  for (const o of r.objects.added) lines.push(`added         ${o.object}: not produced by any migration`)
  for (const o of r.objects.removed)
    lines.push(`removed       ${o.object}: produced by the migrations, missing from the database`)
  for (const o of r.objects.changed) {
    lines.push(`changed       ${o.object}`)
    lines.push(`  migrations: ${o.from.replace(/\n/g, '\n              ')}`)
    lines.push(`  database:   ${o.to.replace(/\n/g, '\n              ')}`)
  }
  if (r.pending.length > 0) lines.push(`(${r.pending.length} migrations not applied yet: ${r.pending.join(', ')})`)
  if (r.repair.statements.length > 0) {
    lines.push('', '-- To bring the database back to its migrations (review every statement):')
    for (const s of r.repair.statements) lines.push(renderStatement(s))
  }
  return `${lines.join('\n')}\n`
}
