import { serveStdio } from './server.js'
import { parseServerArgs, SERVER_HELP } from './server-args.js'
import { loadSettings } from './settings.js'

/**
 * `ddl mcp` and `ddl-mcp`: parses the flags, reads the settings and serves over stdio. Returns an exit
 * code when it does not serve (help: 0; a bad flag or configuration: 2, with the reason on stderr).
 * Never throws.
 *
 * @example
 * process.exitCode = (await runServer(process.argv.slice(2))) ?? 0
 */
export async function runServer(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const args = parseServerArgs(argv)
  if (args.isErr()) {
    process.stderr.write(`ddl mcp: ${args.error.message}\n`)
    return 2
  }
  if (args.value.help) {
    process.stdout.write(SERVER_HELP)
    return 0
  }
  const settings = loadSettings(args.value.overrides, env)
  if (settings.isErr()) {
    process.stderr.write(`ddl mcp: ${settings.error.message}\n`)
    return 2
  }
  await serveStdio(settings.value)
  return undefined
}
