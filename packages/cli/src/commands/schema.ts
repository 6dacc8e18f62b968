import type { TableSchema, TableSummary } from '@ddl/executor/internal'
import type { Command } from 'commander'
import { colors, EXIT, type Io } from '../io.js'
import type { CommandContext, Register } from '../program.js'
import { type ConnectionOptions, openApi, reportError } from './exec.js'

const HELP = `
Without a table: lists the tables, views and materialized views outside Postgres's own schemas.
With one: its columns (type, null, default), indexes and constraints. Names are read as SQL reads
them: users, public.users, '"Mixed Case"', '"my schema"."t"'.

Exit codes: 0 done, 1 no such table or failed, 2 usage or configuration error.

Examples:
  $ ddl schema
  $ ddl schema users
  $ ddl schema public.campaigns --project smoothed --json
Docs: docs/executor.md`

/** Registers `ddl schema [TABLE]`. */
export const registerSchema: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('schema')
    .description('list the tables, or show one table: columns, indexes, constraints')
    .argument('[table]', 'a table, view or materialized view')
    .option('--project <name>', 'a project of ddl.config.json (default: DDL_DATABASE_URL, then DATABASE_URL)')
    .option('--json', 'print JSON')
    .addHelpText('after', HELP)
    .action(async (table: string | undefined, options: ConnectionOptions) => {
      ctx.exitCode = await schema(ctx.io, table, options)
    })
}

async function schema(io: Io, table: string | undefined, options: ConnectionOptions): Promise<number> {
  const db = openApi(io, options.project)
  try {
    if (table === undefined) {
      const tables = await db.listTables()
      if (tables.isErr()) return reportError(io, 'schema', tables.error, options.json)
      io.stdout(
        options.json === true
          ? `${JSON.stringify({ ok: true, result: tables.value }, null, 2)}\n`
          : listing(tables.value),
      )
      return EXIT.ok
    }
    const described = await db.getSchema(table)
    if (described.isErr()) return reportError(io, 'schema', described.error, options.json)
    io.stdout(
      options.json === true
        ? `${JSON.stringify({ ok: true, result: described.value }, null, 2)}\n`
        : describe(io, described.value),
    )
    return EXIT.ok
  } finally {
    await db.close()
  }
}

function listing(tables: readonly TableSummary[]): string {
  if (tables.length === 0) return 'No tables.\n'
  const names = tables.map((t) => `${t.schema}.${t.name}`)
  const width = Math.max(...names.map((n) => n.length))
  const kindWidth = Math.max(...tables.map((t) => t.kind.length))
  return `${tables
    .map((t, i) => {
      const rows = t.estimatedRows === null ? '' : `  ~${t.estimatedRows} rows`
      return `${(names[i] ?? '').padEnd(width)}  ${t.kind.padEnd(kindWidth)}${rows}`.trimEnd()
    })
    .join('\n')}\n`
}

function describe(io: Io, table: TableSchema): string {
  const c = colors(io)
  const lines = [c.bold(`${table.qualifiedName} (${table.kind})`)]
  if (table.comment !== null) lines.push(`  ${table.comment}`)
  const nameWidth = Math.max(...table.columns.map((col) => col.name.length), 4)
  const typeWidth = Math.max(...table.columns.map((col) => col.type.length), 4)
  for (const col of table.columns) {
    const extra = [
      col.default !== null ? `default ${col.default}` : '',
      col.identity !== null ? `generated ${col.identity} as identity` : '',
      col.generated !== null ? `generated always as (${col.generated}) stored` : '',
    ].filter((e) => e !== '')
    lines.push(
      `  ${col.name.padEnd(nameWidth)}  ${col.type.padEnd(typeWidth)}  ${col.nullable ? 'null    ' : 'not null'}  ${extra.join(', ')}`.trimEnd(),
    )
  }
  if (table.indexes.length > 0) {
    lines.push('Indexes:')
    for (const index of table.indexes) {
      lines.push(`  ${index.name}${index.valid ? '' : ' (INVALID)'}: ${index.definition}`)
    }
  }
  const constraints = table.constraints.filter((k) => k.type !== 'not null')
  if (constraints.length > 0) {
    lines.push('Constraints:')
    for (const k of constraints)
      lines.push(`  ${k.name} (${k.type}): ${k.definition}${k.validated ? '' : ' NOT VALID'}`)
  }
  return `${lines.join('\n')}\n`
}
