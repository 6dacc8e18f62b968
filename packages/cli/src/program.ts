import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { EXIT, type Io } from './io.js'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/** A command module adds itself to the program and sets `ctx.exitCode` when it runs. */
export interface CommandContext {
  readonly io: Io
  exitCode: number
}

export type Register = (program: Command, ctx: CommandContext) => void

/** Builds the `ddl` program. Commands are registered by the caller (see main.ts). */
export function createProgram(ctx: CommandContext, registers: readonly Register[]): Command {
  const program = new Command('ddl')
    .description(
      'safe-ddl: change Postgres schemas from code, safely. Every statement is parsed by the real ' +
        'Postgres grammar, classified safe / cautious / destructive, gated, run in a transaction and ' +
        'recorded in an audit log.',
    )
    .version(version, '-v, --version', 'print the version')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run `ddl --help` or `ddl <command> --help` for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 refused / failed / at or above --fail-on, 2 usage or I/O error.\nDocs: docs/cli.md',
    )
  for (const register of registers) register(program, ctx)
  return program
}

/** Runs the program on `argv` (without node and script) and returns the exit code. */
export async function run(
  argv: readonly string[],
  ctx: CommandContext,
  registers: readonly Register[],
): Promise<number> {
  const program = createProgram(ctx, registers)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return ctx.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (error.exitCode === 0) return EXIT.ok
      return EXIT.usage
    }
    throw error
  }
}
