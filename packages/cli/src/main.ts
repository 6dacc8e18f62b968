import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { COMMANDS, type HelpEntry, helpOnlyRegister } from './command-list.js'
import { processIo } from './io.js'
import { type CommandContext, type Register, run } from './program.js'

/**
 * The registers `argv` needs: only its command's when it starts with a command name (a subcommand's
 * parsing and help never involve the others), none for a lone `--version`, every one otherwise
 * (`--help`, `help`, unknown commands and their suggestions).
 */
async function registersFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv[0]
  const named = COMMANDS.find(([name]) => name === first)
  if (named !== undefined) return [await named[1]()]
  if (argv.length === 1 && (first === '--version' || first === '-v')) return []
  if (argv.length === 1 && (first === '--help' || first === '-h')) {
    const entries = bundledHelp()
    if (entries !== undefined) return [helpOnlyRegister(entries)]
  }
  // In order, one after the other: modules evaluate in the order static imports gave them.
  const all: Register[] = []
  for (const [, load] of COMMANDS) all.push(await load())
  return all
}

/**
 * The top-level help's command list, written beside the bundle when it was built from these very
 * modules (packages/cli/scripts/bundle.mjs); undefined when running from dist/, which has none.
 */
function bundledHelp(): HelpEntry[] | undefined {
  try {
    return JSON.parse(readFileSync(new URL('./help-entries.json', import.meta.url), 'utf8')) as HelpEntry[]
  } catch {
    return undefined
  }
}

const argv = process.argv.slice(2)

/** `--liftoff-only` with the implications V8 applies to it on the command line (see below). */
const LIFTOFF_ONLY = ['--liftoff-only', '--no-wasm-tier-up', '--no-wasm-dynamic-tiering'] as const

// A one-shot command runs the parser's WebAssembly on V8's baseline compiler (Liftoff) only. With
// tier-up, V8 compiles the hot parser functions again with TurboFan on background threads, which on
// a small machine compete with the parse itself, and Node waits for them before exiting: measured
// on 2 cores, ddl check of 150 migration files took 0.36 s with tier-up and 0.25 s without, and
// 3.7 MB of regression SQL was no slower (1.84 s against 1.81 s). The long-running MCP server keeps
// and language servers keep tier-up: after warm-up, TurboFan code parses about 15% faster.
//
// Set at run time, a V8 flag does not bring its implications: on the command line `--liftoff-only`
// also turns off `--wasm-tier-up` and `--wasm-dynamic-tiering`, here it does not. Node 20's V8
// honoured `--liftoff-only` alone; Node 24's (V8 13.6) tiers up regardless and compiles the grammar
// with TurboFan: one small file took ~1.1 s and 610 MB instead of ~0.25 s and 78 MB. The three
// flags together are what `--liftoff-only` means on the command line, on every Node this supports.
if (argv[0] !== 'mcp' && argv[0] !== 'lsp') {
  for (const flag of LIFTOFF_ONLY) setFlagsFromString(flag)
}

// Loaded before the try, as static imports were: a module that cannot load fails the process the
// same way (bin/ddl.js explains an unbuilt CLI).
const registers = await registersFor(argv)

const ctx: CommandContext = { io: processIo(), exitCode: 0 }
try {
  process.exitCode = await run(argv, ctx, registers)
} catch (error) {
  process.stderr.write(`ddl: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
