import type { QueryResult } from '@ddl/executor/internal'
import type { Command } from 'commander'
import { colors, EXIT, type Io } from '../io.js'
import type { CommandContext, Register } from '../program.js'
import { type ConnectionOptions, openApi, reportError } from './exec.js'

const HELP = `
Runs one read (SELECT, VALUES, TABLE, SHOW, EXPLAIN) inside a READ ONLY transaction: a statement
the classifier sees writing is refused before it is sent, and the server refuses any write a
function attempts. Values given with --param are bound to $1, $2, ... (never pasted into the SQL).
Reads are not audited. Use ddl exec for changes.

Exit codes: 0 done, 1 refused or failed, 2 usage, input or configuration error.

Examples:
  $ ddl query "SELECT count(*) FROM users WHERE created_at > '2026-01-01'"
  $ ddl query "SELECT * FROM users WHERE email = \\$1" --param ada@example.com
  $ ddl query "SELECT id, name FROM campaigns" --project smoothed --json
Docs: docs/executor.md`

interface QueryOptions extends ConnectionOptions {
  readonly param: string[]
}

/** Registers `ddl query SQL`. */
export const registerQuery: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('query')
    .description('run one read-only query and print its rows')
    .argument('<sql>', 'one SELECT, VALUES, TABLE, SHOW or EXPLAIN statement')
    .option('-p, --param <value>', 'a value for $1, $2, ... (repeat for each)', collect, [])
    .option('--project <name>', 'a project of ddl.config.json (default: DDL_DATABASE_URL, then DATABASE_URL)')
    .option('--json', 'print the rows as JSON')
    .addHelpText('after', HELP)
    .action(async (sql: string, options: QueryOptions) => {
      ctx.exitCode = await query(ctx.io, sql, options)
    })
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

async function query(io: Io, sql: string, options: QueryOptions): Promise<number> {
  const db = openApi(io, options.project)
  try {
    const result = await db.query(sql, options.param)
    if (result.isErr()) return reportError(io, 'query', result.error, options.json)
    if (options.json === true) {
      io.stdout(`${JSON.stringify({ ok: true, result: result.value }, null, 2)}\n`)
    } else {
      io.stdout(renderTable(io, result.value))
    }
    return EXIT.ok
  } finally {
    await db.close()
  }
}

/** A value as one cell of text. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (value instanceof Date) return value.toISOString()
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value).replace(/\n/g, '\\n')
}

/** Rows as an aligned text table with a header and a row count, as psql prints them. */
export function renderTable(io: Io, result: QueryResult): string {
  const c = colors(io)
  const names = result.fields.map((f) => f.name)
  if (names.length === 0) return `${result.command} ${result.rowCount}\n`
  const rows = result.rows.map((row) => names.map((name) => cell(row[name])))
  const widths = names.map((name, i) => Math.max(name.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd()
  const out = [c.bold(line(names)), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)]
  out.push(`(${result.rowCount} row${result.rowCount === 1 ? '' : 's'})`)
  return `${out.join('\n')}\n`
}
