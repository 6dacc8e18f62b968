import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { type Agent, connectAgent, ddl, direct, text, type Workspace, workspace } from './harness.js'

const database = testDatabase('mcp_undo')
let ws: Workspace
let agent: Agent

const ids = () =>
  withClient(database.url, async (c) => (await c.query('SELECT id FROM parts ORDER BY id')).rows.map((r) => r.id))

beforeAll(async () => {
  // Every tier runs unattended here: undo must still wait for a person.
  ws = await workspace(database.url, { mcp: { unattendedTiers: ['safe', 'cautious', 'destructive'] } })
  agent = await connectAgent(ws)
  await direct(database.url, 'CREATE TABLE parts (id int PRIMARY KEY); INSERT INTO parts SELECT generate_series(1, 6)')
})

afterAll(async () => {
  await agent?.close()
  await ws?.remove()
})

describe('the undo tool', () => {
  it('always waits for a person, then puts back what the run removed', async () => {
    const run = await agent.call('execute_sql', { sql: 'DELETE FROM parts WHERE id > 3' })
    expect(run.structuredContent.status, text(run)).toBe('executed')
    const undoId = String(run.structuredContent.undo_id)
    expect(undoId).toMatch(/^u[0-9a-f]{12}$/)
    expect(await ids()).toEqual([1, 2, 3])

    const pending = await agent.call('undo', { id: undoId })
    expect(pending.structuredContent.status, text(pending)).toBe('pending_approval')
    expect(await ids()).toEqual([1, 2, 3])
    const approval = String(pending.structuredContent.approval_id)

    const approved = await ddl(ws, ['approve', approval, '--yes'])
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain(`ddl undo ${undoId}`)

    const done = await agent.call('undo', { id: undoId, approval_id: approval })
    expect(done.structuredContent.status, text(done)).toBe('executed')
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6])
    const records = await ws.records()
    expect(records.filter((r) => r.undo === `restores:${undoId}`).map((r) => r.outcome)).toEqual([
      'intent',
      'committed',
    ])
  })

  it('refuses an unknown id without asking anyone', async () => {
    const result = await agent.call('undo', { id: 'u000000000000' })
    expect(result.isError).toBe(true)
    expect(result.structuredContent.error).toBe('UndoError')
  })
})
