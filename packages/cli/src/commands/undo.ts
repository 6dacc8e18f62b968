import { parseAge, type UndoEntry } from '@ddl/executor/internal'
import type { Command } from 'commander'
import { colors, EXIT, type Io } from '../io.js'
import type { CommandContext, Register } from '../program.js'
import { type ConnectionOptions, openApi, reportError } from './exec.js'

const HELP = `
What a run removes (the old versions of rows a DELETE, UPDATE or MERGE touched, what TRUNCATE
emptied, dropped tables and schemas with everything in them, dropped columns and the old values of
a column type change, definitions of dropped views, indexes, functions, triggers, policies and
constraints) is kept in the ddl_undo schema, in the run's own transaction. ddl undo ID
puts it back as it was just before that run, in one transaction, audited; it is destructive work
(it removes what later changes wrote to the same rows) and needs --i-know-what-im-doing. When later
changes conflict (a new table of the same name, a row re-inserted with the same key), it is refused
whole and says what conflicts: nothing is restored.

Exit codes: 0 done, 1 refused or failed, 2 usage, input or configuration error.

Examples:
  $ ddl undo --list
  $ ddl undo u3f9a1c2b7d01 --i-know-what-im-doing
  $ ddl undo --purge --older-than 7d
Docs: docs/undo.md`

interface UndoCliOptions extends ConnectionOptions {
  readonly list?: boolean
  readonly purge?: boolean
  readonly olderThan?: string
  readonly iKnowWhatImDoing?: boolean
}

/** Registers `ddl undo [ID] | --list | --purge`. */
export const registerUndo: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('undo')
    .description('put back what a run removed, list what can be undone, purge kept copies')
    .argument('[id]', 'the undo id of a run (result.undo.id, ddl undo --list)')
    .option('--list', 'list the runs that can be undone')
    .option('--purge', 'drop kept copies older than --older-than (default: undo.retentionDays, 7)')
    .option('--older-than <age>', 'with --purge: 7d, 12h, 30m, 45s')
    .option('--i-know-what-im-doing', 'run the undo (it is destructive work)')
    .option('--project <name>', 'a project of ddl.config.json (default: DDL_DATABASE_URL, then DATABASE_URL)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', HELP)
    .action(async (id: string | undefined, options: UndoCliOptions) => {
      ctx.exitCode = await undo(ctx.io, id, options)
    })
}

function usage(io: Io, message: string): number {
  io.stderr(`ddl undo: ${message} (ddl undo --help)\n`)
  return EXIT.usage
}

async function undo(io: Io, id: string | undefined, options: UndoCliOptions): Promise<number> {
  const modes = [id !== undefined, options.list === true, options.purge === true].filter(Boolean).length
  if (modes !== 1) return usage(io, 'give one of: an undo id, --list, or --purge.')
  if (options.olderThan !== undefined && options.purge !== true) return usage(io, '--older-than goes with --purge.')
  let age: number | undefined
  if (options.olderThan !== undefined) {
    age = parseAge(options.olderThan)
    if (age === undefined)
      return usage(io, `--older-than ${options.olderThan}: write an age such as 7d, 12h, 30m or 45s.`)
  }
  const db = openApi(io, options.project, 'cli')
  const json = options.json === true
  try {
    if (options.list === true) {
      const result = await db.listUndo()
      if (result.isErr()) return reportError(io, 'undo', result.error, options.json)
      io.stdout(
        json ? `${JSON.stringify({ ok: true, result: result.value }, null, 2)}\n` : renderList(io, result.value),
      )
      return EXIT.ok
    }
    if (options.purge === true) {
      const result = await db.purgeUndo(age)
      if (result.isErr()) return reportError(io, 'undo', result.error, options.json)
      const n = result.value.purged.length
      io.stdout(
        json
          ? `${JSON.stringify({ ok: true, result: result.value }, null, 2)}\n`
          : `Purged ${n} kept run${n === 1 ? '' : 's'}${n > 0 ? `: ${result.value.purged.join(', ')}` : ''}.\n`,
      )
      return EXIT.ok
    }
    const result = await db.undo(id ?? '', options.iKnowWhatImDoing === true ? { iKnowWhatImDoing: true } : {})
    if (result.isErr()) return reportError(io, 'undo', result.error, options.json)
    for (const warning of result.value.warnings) io.stderr(`ddl undo: warning: ${warning}\n`)
    io.stdout(json ? `${JSON.stringify({ ok: true, result: result.value }, null, 2)}\n` : `${result.value.message}\n`)
    return EXIT.ok
  } finally {
    await db.close()
  }
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} kB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`
}

/** Kept runs for people: one block per run, newest first. */
export function renderList(io: Io, entries: readonly UndoEntry[]): string {
  const c = colors(io)
  if (entries.length === 0) return 'Nothing is kept for undo.\n'
  const out: string[] = []
  for (const e of entries) {
    const rows = Object.entries(e.rows)
      .map(([t, n]) => `${t} ${n} row${n === 1 ? '' : 's'}`)
      .join(', ')
    const state = e.restoredAt === null ? '' : ` ${c.dim(`(undone ${e.restoredAt})`)}`
    out.push(`${c.bold(e.id)}  ${e.createdAt}  ${e.actor ?? '?'}  ${e.project}  ${size(e.sizeBytes)}${state}`)
    for (const s of e.statements) out.push(`  line ${s.line}  ${s.statement}`)
    out.push(`  kept: ${e.objects.join(', ')}${rows === '' ? '' : `; ${rows}`}`)
  }
  return `${out.join('\n')}\n`
}
