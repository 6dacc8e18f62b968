import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { ApprovalStore } from './approval-store.js'
import type { Projects } from './projects.js'
import type { McpSettings } from './settings.js'

/** What every tool works with: settings, projects, the approval store, the server, the clock. */
export interface ToolContext {
  readonly settings: McpSettings
  readonly projects: Projects
  readonly store: ApprovalStore
  readonly server: McpServer
  /** This server instance's random id (per start): approvals it asks for are bound to it. */
  readonly serverId: string
  /** `mcp:<client name>`, from the client's `initialize` (the audit log's actor). */
  actor(): string
  /** The client's name as it gave it, e.g. `claude-code`. */
  clientName(): string
  now(): Date
  /** A line for the server's stderr (the client's log), never for stdout. */
  log(message: string): void
  /**
   * Delivers the notifications the audit log's new records mean, in the background (the tool's
   * result does not wait), one delivery round at a time. Does nothing without a configured sink.
   */
  notify(): void
}

/** The client's name, cut to something safe to print and record. Never throws. */
export function clientLabel(name: string | undefined): string {
  const clean = (name ?? '')
    .replace(/[^A-Za-z0-9._@/ -]/g, '')
    .trim()
    .slice(0, 64)
  return clean === '' ? 'unknown-client' : clean
}
