import { runServer, SERVER_HELP } from '@ddl/mcp'
import type { Command } from 'commander'
import type { CommandContext, Register } from '../program.js'

/** Registers `ddl mcp [options]`: safe-ddl's MCP server for AI agents, over stdio (flags: see SERVER_HELP). */
export const registerMcp: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('mcp')
    .description('serve safe-ddl to an AI agent over MCP (stdio); risky SQL waits for ddl approve')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'the server flags (ddl mcp --help lists them)')
    .addHelpText('after', `\n${SERVER_HELP}`)
    .action(async (args: string[]) => {
      // The server's own parser reads the flags, so ddl mcp and ddl-mcp take exactly the same ones.
      const code = await runServer(args, ctx.io.env)
      if (code !== undefined) ctx.exitCode = code
    })
}
