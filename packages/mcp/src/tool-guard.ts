import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { type ZodRawShape, z } from 'zod'
import { escapeControls } from './render.js'
import { changedSettingsFiles } from './settings.js'
import type { ToolContext } from './tool-context.js'

type Handler = (args: Record<string, unknown>, extra: unknown) => Promise<CallToolResult> | CallToolResult
type Register = (name: string, config: { inputSchema?: ZodRawShape } & Record<string, unknown>, cb: Handler) => unknown

/**
 * Makes every tool registered on `server` after this call report what a model should know beside its
 * result: arguments it sent that the tool does not have (`confirm`, `iKnowWhatImDoing`, ...), which
 * are ignored, never silently dropped; and settings files changed since the server started, which are
 * ignored too. The change is also logged (stderr) once. Never throws.
 */
export function guardTools(server: McpServer, ctx: ToolContext): void {
  const original = server.registerTool.bind(server) as unknown as Register
  let reported = ''
  const patched: Register = (name, config, cb) => {
    const shape = config.inputSchema
    if (shape === undefined) return original(name, config, cb)
    const known = new Set(Object.keys(shape))
    return original(
      name,
      { ...config, inputSchema: z.object(shape).passthrough() as unknown as ZodRawShape },
      async (args, extra) => {
        const ignored = Object.keys(args).filter((k) => !known.has(k))
        const clean: Record<string, unknown> = {}
        for (const [key, value] of Object.entries(args)) if (known.has(key)) clean[key] = value
        const result = await cb(clean, extra)
        // The call's records are durable now: notifications go out after them, never before.
        ctx.notify()
        const notes: string[] = []
        const structured: Record<string, unknown> = {}
        if (ignored.length > 0) {
          const names = ignored.map((k) => escapeControls(k.slice(0, 60))).join(', ')
          notes.push(
            `Ignored arguments: ${names}. ${name} has no such argument${ignored.length > 1 ? 's' : ''}, and nothing an agent ` +
              'sends can approve work: cautious and destructive work waits for a person.',
          )
          structured.ignored_arguments = ignored.map((k) => k.slice(0, 60))
        }
        const changed = changedSettingsFiles(ctx.settings.snapshot)
        if (changed.length > 0) {
          const list = changed.join(' and ')
          notes.push(
            `Note: ${list} changed after this server started. The change is ignored: the server keeps the settings, ` +
              'database and audit log it started with, and runs no approved work until a person restores the file or ' +
              'restarts the server.',
          )
          structured.settings_changed = changed
          if (reported !== list) {
            reported = list
            ctx.log(`${list} changed after start; the change is ignored (settings are read once, at start).`)
          }
        }
        if (notes.length === 0) return result
        const content = [...result.content, { type: 'text' as const, text: notes.join('\n') }]
        return {
          ...result,
          content,
          ...(result.structuredContent !== undefined
            ? { structuredContent: { ...result.structuredContent, ...structured } }
            : {}),
        }
      },
    )
  }
  ;(server as unknown as { registerTool: Register }).registerTool = patched
}
