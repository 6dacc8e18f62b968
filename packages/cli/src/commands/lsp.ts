import { type Command, Option } from 'commander'
import type { CommandContext, Register } from '../program.js'
import { parsePgVersion } from './check.js'

const HELP = `
A language server over standard input and output, for any editor with an LSP client: it shows
ddl check's findings on .sql documents as you type (the same classifier, policy and pgVersion as
ddl check), each with its hint and a link to the rule page, and offers a quick fix that writes
"-- ddl:ignore <rule> <reason>" above a statement for lint hazards (never for a tier: a comment
cannot lower one). Policy comes from --config, else ddl.config.json ("policy"), else package.json
("safe-ddl") in the workspace folder the editor opens (else the working directory).

The editor starts this command; you do not run it by hand. --stdio is accepted (clients add it).

Examples:
  $ ddl lsp
  $ ddl lsp --config ci/ddl.config.json --pg-version 16
Docs: docs/integrations/editor.md`

interface LspOptions {
  readonly config?: string
  readonly pgVersion?: number
}

/** Registers `ddl lsp`. The server and vscode-languageserver load only when the command runs. */
export const registerLsp: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('lsp')
    .description("a language server for editors: ddl check's findings on .sql files as you type")
    .option('--config <path>', 'a ddl.config.json or package.json holding the policy')
    .option('--pg-version <n>', 'Postgres major version the advice is for (default: config, else 14)', parsePgVersion)
    .option('--stdio', 'talk LSP over standard input and output (the default and only transport)')
    // vscode-languageclient adds it when it starts a server as a node module; the stdio stream's end
    // already stops the server when the editor goes away.
    .addOption(new Option('--clientProcessId <pid>', 'the editor process (accepted, unused)').hideHelp())
    .addHelpText('after', HELP)
    .action(async (options: LspOptions) => {
      const { serveLsp } = await import('../lsp/server.js')
      ctx.exitCode = await serveLsp({
        cwd: ctx.io.cwd,
        input: process.stdin,
        output: process.stdout,
        ...(options.config === undefined ? {} : { config: options.config }),
        ...(options.pgVersion === undefined ? {} : { pgVersion: options.pgVersion }),
      })
    })
}
