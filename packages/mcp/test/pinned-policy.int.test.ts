import { afterEach, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { type Agent, connectAgent, ddl, direct, tableExists, text, type Workspace, workspace } from './harness.js'

const database = testDatabase('mcp_pinned_policy')
const open: Array<Agent | Workspace> = []

afterEach(async () => {
  for (const item of open.splice(0).reverse()) {
    if ('client' in item) await item.close()
    else await item.remove()
  }
})

describe('a lowering policy over MCP', () => {
  it('is ignored with a warning until a person approves it, then every lowered verdict says so', async () => {
    await direct(database.url, 'CREATE TABLE mcp_victims (id int); INSERT INTO mcp_victims VALUES (1)')
    const ws = await workspace(database.url, { policy: { rules: { 'drop-table': 'safe' } } })
    open.push(ws)
    const agent = await connectAgent(ws)
    open.push(agent)

    const classified = await agent.call('classify_sql', { sql: 'DROP TABLE mcp_victims' })
    expect(classified.structuredContent.tier).toBe('destructive')
    expect(text(classified)).toContain('is not approved')
    expect(String(classified.structuredContent.warnings)).toContain('drop-table: destructive → safe')
    const asked = await agent.call('execute_sql', { sql: 'DROP TABLE mcp_victims' })
    expect(asked.structuredContent.status).toBe('pending_approval')
    expect(await tableExists(database.url, 'mcp_victims')).toBe(true)
    await agent.close()
    open.pop()

    const approved = await ddl(ws, ['policy', 'approve', '--yes'])
    expect(approved.code, approved.stderr).toBe(0)

    const after = await connectAgent(ws)
    open.push(after)
    const lowered = await after.call('classify_sql', { sql: 'DROP TABLE mcp_victims' })
    expect(lowered.structuredContent.tier).toBe('safe')
    expect(text(lowered)).toContain('Lowered by policy')
    const ran = await after.call('execute_sql', { sql: 'DROP TABLE mcp_victims' })
    expect(ran.isError, text(ran)).not.toBe(true)
    expect(text(ran)).toContain('lowered drop-table from destructive to safe')
    expect(await tableExists(database.url, 'mcp_victims')).toBe(false)
    const committed = (await ws.records()).filter(
      (r) => r.statement === 'DROP TABLE mcp_victims' && r.outcome === 'committed',
    )
    expect(committed[0]?.policy?.lowered).toEqual([{ rule: 'drop-table', from: 'destructive', to: 'safe' }])
    expect(committed[0]?.policy?.hash).toMatch(/^[0-9a-f]{64}$/)
  }, 60_000)
})
