import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { ApprovalStore } from './approval-store.js'
import { startNotifications } from './notifications.js'
import { Projects } from './projects.js'
import { describeSettings, type McpSettings } from './settings.js'
import { clientLabel, type ToolContext } from './tool-context.js'
import { guardTools } from './tool-guard.js'
import { registerAuditTail } from './tools/audit-tail.js'
import { registerClassifySql } from './tools/classify-sql.js'
import { registerExecuteSql } from './tools/execute-sql.js'
import { registerGetSchema } from './tools/get-schema.js'
import { registerListTables } from './tools/list-tables.js'
import { registerApplyMigrations, registerMigrationStatus } from './tools/migrations.js'
import { registerQuery } from './tools/query.js'
import { registerRehearseSql } from './tools/rehearse-sql.js'
import { registerSchemaDiff } from './tools/schema-diff.js'
import { registerUndo } from './tools/undo.js'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/** How long after expiry an approval's files are kept (for `ddl approve --list` and people): 7 days. */
const PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000

/** The server's name in `initialize`. */
export const SERVER_NAME = 'safe-ddl'

const INSTRUCTIONS = `safe-ddl changes Postgres schemas safely. Every statement is parsed by the real Postgres grammar and classified safe, cautious or destructive, run in one transaction, and recorded in an audit log.
Safe work runs at once. Cautious and destructive work (DROP, TRUNCATE, DELETE, DROP COLUMN, ...) never runs on your say: the tool returns a pending approval and you must stop and ask the person to approve it (\`ddl approve ID\` in their own terminal, or your client's prompt). There is no flag to skip this, and you must not run \`ddl approve\` yourself. After approval, call the same tool again with exactly the same SQL; it runs once.
Start with list_tables and get_schema; check SQL with classify_sql; see what it would do with rehearse_sql; read with query.`

/** Options of {@link createMcpServer}, for tests and embedders. */
export interface CreateServerOptions {
  /** The clock. Default `() => new Date()`. */
  readonly now?: () => Date
  /** Where log lines go. Default stderr. */
  readonly log?: (message: string) => void
  /** This instance's id. Default a new random `srv-` id. */
  readonly serverId?: string
  /** Where notification URLs and secrets are read (never from files in the working tree). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** A server and how to stop it. */
export interface SafeDdlServer {
  readonly server: McpServer
  /** This instance's id: approvals it asks for are bound to it. */
  readonly serverId: string
  /** One line per project: its database (read at start), or a warning when it has none. */
  describeDatabases(): string[]
  /** Closes the MCP connection and every database pool. Never throws. */
  close(): Promise<void>
}

/**
 * Builds the MCP server with every tool: `classify_sql`, `execute_sql`, `rehearse_sql`, `query`,
 * `get_schema`, `list_tables`, `migration_status`, `apply_migrations`, `audit_tail`. Connect it to a
 * transport (see {@link serveStdio}). Never throws.
 *
 * @example
 * const { server } = createMcpServer(loadSettings({}, process.env)._unsafeUnwrap())
 * await server.connect(new StdioServerTransport())
 */
export function createMcpServer(settings: McpSettings, options: CreateServerOptions = {}): SafeDdlServer {
  const server = new McpServer(
    { name: SERVER_NAME, title: 'safe-ddl: gated Postgres schema changes', version },
    { instructions: INSTRUCTIONS, capabilities: { tools: {} }, maxToolInputElements: 10_000 },
  )
  const clientName = () => clientLabel(server.server.getClientVersion()?.name)
  const actor = () => `mcp:${clientName()}`
  const log = options.log ?? ((message: string) => process.stderr.write(`safe-ddl mcp: ${message}\n`))
  const serverId = options.serverId ?? `srv-${randomBytes(8).toString('hex')}`
  const notifications = startNotifications(settings, options.env ?? process.env, log)
  const ctx: ToolContext = {
    settings,
    serverId,
    projects: new Projects(settings, actor),
    store: new ApprovalStore(settings.approvals.dir, {
      approverUids: settings.approvals.approverUids,
      shared: settings.approvals.shared,
    }),
    server,
    actor,
    clientName,
    now: options.now ?? (() => new Date()),
    log,
    notify: () => notifications.kick(),
  }
  guardTools(server, ctx)
  for (const register of [
    registerClassifySql,
    registerExecuteSql,
    registerRehearseSql,
    registerQuery,
    registerGetSchema,
    registerListTables,
    registerMigrationStatus,
    registerApplyMigrations,
    registerAuditTail,
    registerUndo,
    registerSchemaDiff,
  ]) {
    register(server, ctx)
  }
  let closed = false
  return {
    server,
    serverId,
    describeDatabases: () => ctx.projects.describe(),
    async close() {
      if (closed) return
      closed = true
      await server.close().catch(() => undefined)
      await notifications.settle()
      await ctx.projects.close()
    },
  }
}

/**
 * Serves the tools over stdio until the client closes standard input (or SIGINT/SIGTERM), then closes
 * every pool. Logs the effective policy to stderr first. Never throws.
 *
 * @example
 * await serveStdio(settings) // ddl mcp, ddl-mcp
 */
export async function serveStdio(settings: McpSettings): Promise<void> {
  const running = createMcpServer(settings)
  process.stderr.write(
    `safe-ddl mcp ${version} (instance ${running.serverId})\n${describeSettings(settings, running.describeDatabases())}\n`,
  )
  // Approvals that expired over a week ago can never run: drop their files so the store stays small.
  const store = new ApprovalStore(settings.approvals.dir, { shared: settings.approvals.shared })
  await store.prune(new Date(Date.now() - PRUNE_AFTER_MS))
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= running.close().finally(() => process.exit(process.exitCode ?? 0))
    return stopping
  }
  process.stdin.once('end', stop)
  process.stdin.once('close', stop)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await running.server.connect(new StdioServerTransport())
}
