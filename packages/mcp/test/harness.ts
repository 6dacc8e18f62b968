/**
 * Drives the real server binary (packages/mcp/bin/ddl-mcp.js, built by `tsc -b`) with the MCP SDK's
 * own client over stdio, and the real CLI (`ddl approve`) as a child process, against a test's own
 * database. Each harness has its own temp dir: ddl.config.json, the audit log and the approval store.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { AuditLog, type AuditRecord } from '@ddl/audit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js'
import pg from 'pg'

const root = resolve(import.meta.dirname, '../../..')
export const SERVER_BIN = join(root, 'packages/mcp/bin/ddl-mcp.js')
export const CLI_BIN = join(root, 'packages/cli/bin/ddl.js')
const run = promisify(execFile)

/** A temp workspace: config, audit log, approval store. */
export interface Workspace {
  readonly dir: string
  readonly auditPath: string
  readonly approvalsDir: string
  readonly env: Record<string, string>
  records(): Promise<readonly AuditRecord[]>
  remove(): Promise<void>
}

/** Makes a workspace whose ddl.config.json holds `config` (when given). */
export async function workspace(databaseUrl: string, config?: unknown): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'ddl-mcp-test-'))
  if (config !== undefined) await writeFile(join(dir, 'ddl.config.json'), JSON.stringify(config, null, 2))
  const auditPath = join(dir, 'audit.jsonl')
  const approvalsDir = join(dir, 'approvals')
  return {
    dir,
    auditPath,
    approvalsDir,
    env: { DDL_DATABASE_URL: databaseUrl, DDL_AUDIT_LOG: auditPath, DDL_APPROVALS_DIR: approvalsDir },
    async records() {
      const read = await AuditLog.open({ path: auditPath }).read()
      if (read.isErr()) throw read.error
      return read.value
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/** A connected MCP client, as an agent's client would be. */
export interface Agent {
  readonly client: Client
  /** Calls a tool and returns its result (never throws on a tool error: that is `isError`). */
  call(
    name: string,
    args: Record<string, unknown>,
  ): Promise<CallToolResult & { structuredContent: Record<string, unknown> }>
  /** What the server wrote to stderr. */
  stderr(): string
  close(): Promise<void>
}

/** Spawns the server in the workspace and connects a client named `vitest-agent`. */
export async function connectAgent(
  ws: Workspace,
  options: {
    readonly args?: readonly string[]
    readonly env?: Record<string, string>
    readonly capabilities?: ClientCapabilities
    readonly setup?: (client: Client) => void
    /** Start it as `ddl mcp` (the CLI) instead of `ddl-mcp`. */
    readonly viaCli?: boolean
  } = {},
): Promise<Agent> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...(options.viaCli === true ? [CLI_BIN, 'mcp'] : [SERVER_BIN]), ...(options.args ?? [])],
    env: { ...ws.env, ...options.env },
    cwd: ws.dir,
    stderr: 'pipe',
  })
  let errText = ''
  transport.stderr?.on('data', (chunk: Buffer) => {
    errText += chunk.toString('utf8')
  })
  const client = new Client({ name: 'vitest-agent', version: '1.0.0' }, { capabilities: options.capabilities ?? {} })
  options.setup?.(client)
  await client.connect(transport)
  return {
    client,
    async call(name, args) {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult
      return { ...result, structuredContent: (result.structuredContent ?? {}) as Record<string, unknown> }
    },
    stderr: () => errText,
    close: () => client.close(),
  }
}

/** Runs the real `ddl` CLI in the workspace; returns its exit code and output. */
export async function ddl(
  ws: Workspace,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_BIN, ...args], {
      cwd: ws.dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ws.dir, ...ws.env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** True when `table` exists in the database. */
export async function tableExists(url: string, table: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const r = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table])
    return r.rows[0]?.exists === true
  } finally {
    await client.end()
  }
}

/** Runs SQL directly (test setup), outside safe-ddl. */
export async function direct(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** The text of a tool result. */
export function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n')
}
