import { registerApprove } from './commands/approve.js'
import { registerAudit } from './commands/audit.js'
import { registerCheck } from './commands/check.js'
import { registerDemo } from './commands/demo.js'
import { registerExec } from './commands/exec.js'
import { registerMcp } from './commands/mcp.js'
import { registerMigrate } from './commands/migrate.js'
import { registerQuery } from './commands/query.js'
import { registerSchema } from './commands/schema.js'
import { processIo } from './io.js'
import { type CommandContext, type Register, run } from './program.js'

/** Every command of `ddl`; each module registers one command (or one group). */
const registers: Register[] = [
  registerApprove,
  registerAudit,
  registerCheck,
  registerDemo,
  registerExec,
  registerMcp,
  registerMigrate,
  registerQuery,
  registerSchema,
]

const ctx: CommandContext = { io: processIo(), exitCode: 0 }
try {
  process.exitCode = await run(process.argv.slice(2), ctx, registers)
} catch (error) {
  process.stderr.write(`ddl: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
