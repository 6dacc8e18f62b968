import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterEach, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { type Agent, connectAgent, ddl, direct, tableExists, text, type Workspace, workspace } from './harness.js'

const database = testDatabase('mcp_policy')
const open: Array<Agent | Workspace> = []

afterEach(async () => {
  for (const item of open.splice(0).reverse()) {
    if ('client' in item) await item.close()
    else await item.remove()
  }
})

async function setup(config?: unknown, options: Parameters<typeof connectAgent>[1] = {}) {
  const ws = await workspace(database.url, config)
  open.push(ws)
  const agent = await connectAgent(ws, options)
  open.push(agent)
  return { ws, agent }
}

async function requests(ws: Workspace): Promise<string[]> {
  return readdir(join(ws.approvalsDir, 'requests')).catch(() => [])
}

describe('approval expiry', () => {
  it('refuses an expired approval, and ddl approve refuses an expired request', async () => {
    const { ws, agent } = await setup({ mcp: { approvals: { ttlSeconds: 4 } } })
    await direct(database.url, 'CREATE TABLE exp_a (id int); CREATE TABLE exp_b (id int)')
    const first = await agent.call('execute_sql', { sql: 'DROP TABLE exp_a' })
    const second = await agent.call('execute_sql', { sql: 'DROP TABLE exp_b' })
    const id = String(first.structuredContent.approval_id)
    const expiresAt = Date.parse(String(first.structuredContent.expires_at))
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(4000)
    const approved = await ddl(ws, ['approve', id, '--yes'])
    expect(approved.code, approved.stderr).toBe(0)

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 300))
    const late = await agent.call('execute_sql', { sql: 'DROP TABLE exp_a', approval_id: id })
    expect(late.isError).toBe(true)
    expect(late.structuredContent.reason).toBe('expired')
    expect(await tableExists(database.url, 'exp_a')).toBe(true)

    const tooLate = await ddl(ws, ['approve', String(second.structuredContent.approval_id), '--yes'])
    expect(tooLate.code).toBe(1)
    expect(tooLate.stderr).toContain('expired')

    // Without an id, the same SQL asks anew rather than using the expired approval.
    const anew = await agent.call('execute_sql', { sql: 'DROP TABLE exp_a' })
    expect(anew.structuredContent.status).toBe('pending_approval')
    expect(anew.structuredContent.approval_id).not.toBe(id)
    expect(await tableExists(database.url, 'exp_a')).toBe(true)
    const refused = (await ws.records()).filter((r) => r.outcome === 'blocked' && r.error?.includes('expired'))
    expect(refused).toHaveLength(1)
  }, 30_000)
})

describe('rehearse_sql', () => {
  it('says how many rows a DROP TABLE would take with it, and drops nothing', async () => {
    await direct(
      database.url,
      'CREATE TABLE rh_keep (id int); INSERT INTO rh_keep SELECT g FROM generate_series(1, 3) g',
    )
    const { agent } = await setup()
    const rehearsal = await agent.call('rehearse_sql', { sql: 'DROP TABLE rh_keep' })
    expect(rehearsal.isError).not.toBe(true)
    const statements = rehearsal.structuredContent.statements as { dropped_rows: unknown }[]
    expect(statements[0]?.dropped_rows).toEqual([{ relation: 'public.rh_keep', rows: 3 }])
    expect(text(rehearsal)).toContain('loses public.rh_keep with its 3 rows')
    expect(await tableExists(database.url, 'rh_keep')).toBe(true)
  })
})

describe('read-only mode', () => {
  it('refuses every write and asks no one, while reads still work', async () => {
    await direct(database.url, 'CREATE TABLE ro_keep (id int); INSERT INTO ro_keep VALUES (1)')
    const { ws, agent } = await setup(undefined, { args: ['--read-only'] })
    for (const sql of ['CREATE TABLE ro_new (id int)', 'DROP TABLE ro_keep', 'INSERT INTO ro_keep VALUES (2)']) {
      const result = await agent.call('execute_sql', { sql })
      expect(result.isError, sql).toBe(true)
      expect(result.structuredContent.reason, sql).toBe('read-only')
      expect(text(result)).toContain('read-only')
    }
    const rehearsal = await agent.call('rehearse_sql', { sql: 'DROP TABLE ro_keep' })
    expect(rehearsal.structuredContent.reason).toBe('read-only')
    const migrate = await agent.call('apply_migrations', { dir: '.' })
    expect(migrate.structuredContent.reason).toBe('read-only')
    const write = await agent.call('query', { sql: 'DELETE FROM ro_keep RETURNING *' })
    expect(write.isError).toBe(true)

    expect(await tableExists(database.url, 'ro_new')).toBe(false)
    expect(await tableExists(database.url, 'ro_keep')).toBe(true)
    expect(await requests(ws)).toEqual([])
    const read = await agent.call('query', { sql: 'SELECT count(*)::int AS n FROM ro_keep' })
    expect(read.structuredContent.rows).toEqual([{ n: 1 }])
    const classified = await agent.call('classify_sql', { sql: 'DROP TABLE ro_keep' })
    expect(classified.structuredContent.would).toBe('refuse')

    const blocked = (await ws.records()).filter((r) => r.source === 'mcp read-only')
    expect(blocked.map((r) => r.statement)).toEqual(
      expect.arrayContaining(['CREATE TABLE ro_new (id int)', 'DROP TABLE ro_keep', 'INSERT INTO ro_keep VALUES (2)']),
    )
    expect(blocked.every((r) => r.outcome === 'blocked' && r.actor === 'mcp:vitest-agent')).toBe(true)
  })

  it('stays read-only when the configuration says so, whatever the flags', async () => {
    const { agent } = await setup({ mcp: { readOnly: true } }, { args: ['--unattended', 'safe,cautious'] })
    const result = await agent.call('execute_sql', { sql: 'CREATE TABLE ro_cfg (id int)' })
    expect(result.structuredContent.reason).toBe('read-only')
    expect(await tableExists(database.url, 'ro_cfg')).toBe(false)
  })
})

describe('approval through the client prompt (elicitation)', () => {
  it('runs the SQL once when the person ticks approve in the prompt', async () => {
    await direct(database.url, 'CREATE TABLE eli_yes (id int)')
    const prompts: string[] = []
    const { ws, agent } = await setup(undefined, {
      capabilities: { elicitation: {} },
      setup: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          prompts.push(request.params.message)
          return { action: 'accept', content: { approve: true } }
        }),
    })
    const result = await agent.call('execute_sql', { sql: 'DROP TABLE eli_yes' })
    expect(result.structuredContent.status, text(result)).toBe('executed')
    expect(await tableExists(database.url, 'eli_yes')).toBe(false)
    expect(prompts).toHaveLength(1)
    expect(prompts[0]).toContain('DROP TABLE eli_yes')
    expect(prompts[0]).toContain('DESTRUCTIVE')
    const approved = (await ws.records()).filter((r) => r.outcome === 'dry_run')
    expect(approved.map((r) => r.actor)).toEqual(['person via mcp:vitest-agent'])
  })

  it('runs nothing when the person declines or leaves approve unticked', async () => {
    await direct(database.url, 'CREATE TABLE eli_no (id int)')
    const answers = [
      { action: 'decline' as const },
      { action: 'accept' as const, content: { approve: false } },
      { action: 'cancel' as const },
    ]
    const { agent } = await setup(undefined, {
      capabilities: { elicitation: {} },
      setup: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async () => answers.shift() ?? { action: 'cancel' }),
    })
    const declined = await agent.call('execute_sql', { sql: 'DROP TABLE eli_no' })
    expect(declined.structuredContent.reason).toBe('denied')
    const unticked = await agent.call('execute_sql', { sql: 'DROP TABLE eli_no' })
    expect(unticked.structuredContent.reason).toBe('denied')
    const cancelled = await agent.call('execute_sql', { sql: 'DROP TABLE eli_no' })
    expect(cancelled.structuredContent.status).toBe('pending_approval')
    expect(await tableExists(database.url, 'eli_no')).toBe(true)
  })

  it('in elicitation-only mode, refuses risky work from a client without a prompt and ignores ddl approve', async () => {
    await direct(database.url, 'CREATE TABLE eli_only (id int)')
    const { ws, agent } = await setup({ mcp: { approvals: { channels: ['elicitation'] } } })
    const result = await agent.call('execute_sql', { sql: 'DROP TABLE eli_only' })
    expect(result.isError).toBe(true)
    expect(text(result)).toContain("client's own prompt")
    expect(await requests(ws)).toEqual([])

    // A grant written through ddl approve (say, by an agent with a shell) does not count here.
    const cli = await setup(undefined)
    const pending = await cli.agent.call('execute_sql', { sql: 'DROP TABLE eli_only' })
    const id = String(pending.structuredContent.approval_id)
    const strict = await connectAgent(cli.ws, { args: ['--approvals', 'elicitation'] })
    open.push(strict)
    expect((await ddl(cli.ws, ['approve', id, '--yes'])).code).toBe(0)
    const refused = await strict.call('execute_sql', { sql: 'DROP TABLE eli_only', approval_id: id })
    expect(refused.structuredContent.reason).toBe('untrusted')
    expect(await tableExists(database.url, 'eli_only')).toBe(true)
  })
})

describe('ddl mcp', () => {
  it('serves the same server through the CLI, with the same flags', async () => {
    await direct(database.url, 'CREATE TABLE via_cli (id int)')
    const { agent } = await setup(undefined, { viaCli: true, args: ['--read-only'] })
    // The same twelve tools as the library server lists (approval.int.test.ts names them).
    expect((await agent.client.listTools()).tools).toHaveLength(12)
    expect(agent.client.getServerVersion()?.name).toBe('safe-ddl')
    const refused = await agent.call('execute_sql', { sql: 'DROP TABLE via_cli' })
    expect(refused.structuredContent.reason).toBe('read-only')
    expect(agent.stderr()).toContain('read-only: every write is refused')
  })

  it('prints its flags with --help and refuses unknown ones', async () => {
    const ws = await workspace(database.url)
    open.push(ws)
    const help = await ddl(ws, ['mcp', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--read-only')
    const bad = await ddl(ws, ['mcp', '--yolo'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('yolo')
  })
})

describe('configuration', () => {
  it('runs the tiers configured as unattended without a person, and no others', async () => {
    await direct(database.url, 'CREATE TABLE un_t (id int); INSERT INTO un_t VALUES (1), (2)')
    const { agent } = await setup({ mcp: { unattendedTiers: ['safe', 'cautious'] } })
    const deleted = await agent.call('execute_sql', { sql: 'DELETE FROM un_t WHERE id = 1' })
    expect(deleted.structuredContent.status).toBe('executed')
    const dropped = await agent.call('execute_sql', { sql: 'DROP TABLE un_t' })
    expect(dropped.structuredContent.status).toBe('pending_approval')
    expect(await tableExists(database.url, 'un_t')).toBe(true)
  })

  it('touches only the projects it is given', async () => {
    const { agent } = await setup(
      { projects: { app: 'APP_DATABASE_URL', other: 'OTHER_DATABASE_URL' }, mcp: { projects: ['app'] } },
      { env: { APP_DATABASE_URL: database.url, OTHER_DATABASE_URL: database.url } },
    )
    const refused = await agent.call('list_tables', { project: 'other' })
    expect(refused.isError).toBe(true)
    expect(text(refused)).toContain('may not use project "other"')
    const listed = await agent.call('list_tables', {})
    expect(listed.structuredContent.project).toBe('app')
  })

  it('refuses to start with a configuration it does not understand', async () => {
    const ws = await workspace(database.url, { mcp: { unattendedTiers: ['everything'] } })
    open.push(ws)
    await expect(connectAgent(ws)).rejects.toThrow()
  })
})
