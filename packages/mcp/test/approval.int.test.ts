import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { type Agent, connectAgent, ddl, direct, tableExists, text, type Workspace, workspace } from './harness.js'

const database = testDatabase('mcp_approval')
let ws: Workspace
let agent: Agent

beforeAll(async () => {
  ws = await workspace(database.url)
  agent = await connectAgent(ws)
})

afterAll(async () => {
  await agent?.close()
  await ws?.remove()
})

describe('the MCP server over stdio', () => {
  it('lists every tool with a description and an input schema', async () => {
    const { tools } = await agent.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      'apply_migrations',
      'audit_tail',
      'classify_sql',
      'execute_sql',
      'get_schema',
      'list_tables',
      'migration_status',
      'query',
      'rehearse_sql',
      'schema_diff',
      'schema_drift',
      'undo',
    ])
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(60)
      expect(tool.inputSchema.type, tool.name).toBe('object')
    }
    const execute = tools.find((t) => t.name === 'execute_sql')
    expect(Object.keys(execute?.inputSchema.properties ?? {}).sort()).toEqual(['approval_id', 'project', 'sql'])
  })

  it('offers the agent no flag that skips an approval', async () => {
    const { tools } = await agent.client.listTools()
    for (const tool of tools) {
      const names = Object.keys(tool.inputSchema.properties ?? {})
      expect(
        names.filter((n) => /confirm|know|force|override|approve[^_]/i.test(n)),
        tool.name,
      ).toEqual([])
    }
    const result = await agent.call('execute_sql', { sql: 'DROP TABLE IF EXISTS nothing_here', iKnowWhatImDoing: true })
    expect(result.structuredContent.status).toBe('pending_approval')
  })

  it('runs a safe CREATE TABLE at once, as mcp:<client name>', async () => {
    const result = await agent.call('execute_sql', { sql: 'CREATE TABLE orders (id int PRIMARY KEY, note text)' })
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent.status).toBe('executed')
    expect(text(result)).toContain('Committed 1 statement')
    expect(await tableExists(database.url, 'orders')).toBe(true)
    const committed = (await ws.records()).filter((r) => r.outcome === 'committed' && r.statement.startsWith('CREATE'))
    expect(committed).toHaveLength(1)
    expect(committed[0]?.actor).toBe('mcp:vitest-agent')
  })

  it('returns a pending approval for DROP TABLE, with tiers, findings and a rehearsal, and changes nothing', async () => {
    await direct(database.url, "INSERT INTO orders VALUES (1, 'a'), (2, 'b')")
    const result = await agent.call('execute_sql', { sql: 'DROP TABLE orders' })
    expect(result.isError).toBeFalsy()
    const s = result.structuredContent
    expect(s.status).toBe('pending_approval')
    expect(s.approval_id).toMatch(/^ap-[0-9a-z]{10}$/)
    expect(s.tier).toBe('destructive')
    expect(JSON.stringify(s.statements)).toContain('drop-table')
    expect((s.rehearsal as string[]).join('\n')).toContain('drops')
    expect(text(result)).toContain(`ddl approve ${String(s.approval_id)}`)
    expect(await tableExists(database.url, 'orders')).toBe(true)

    // Asking again with the same SQL finds the same request, and still runs nothing.
    const again = await agent.call('execute_sql', { sql: 'DROP TABLE orders' })
    expect(again.structuredContent.approval_id).toBe(s.approval_id)
    expect(again.structuredContent.status).toBe('pending_approval')
    expect(await tableExists(database.url, 'orders')).toBe(true)
  })

  it('lets exactly the approved SQL run once after ddl approve, and refuses other SQL and reuse', async () => {
    await direct(database.url, 'CREATE TABLE old_backup (id int); CREATE TABLE keep_me (id int)')
    const pending = await agent.call('execute_sql', { sql: 'DROP TABLE old_backup' })
    const id = String(pending.structuredContent.approval_id)

    const listed = await ddl(ws, ['approve', '--list'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain(id)

    // Without a terminal and without --yes, nothing is approved.
    const unattended = await ddl(ws, ['approve', id])
    expect(unattended.code).toBe(1)
    expect(unattended.stderr).toContain('not a terminal')

    const approved = await ddl(ws, ['approve', id, '--yes'])
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain('DROP TABLE old_backup')
    expect(approved.stdout).toContain(`Approved ${id}`)

    // The same id with different SQL is refused, and consumes nothing.
    const other = await agent.call('execute_sql', { sql: 'DROP TABLE keep_me', approval_id: id })
    expect(other.isError).toBe(true)
    expect(other.structuredContent.reason).toBe('sql-mismatch')
    expect(await tableExists(database.url, 'keep_me')).toBe(true)
    const spaced = await agent.call('execute_sql', { sql: 'DROP TABLE  old_backup', approval_id: id })
    expect(spaced.structuredContent.reason).toBe('sql-mismatch')

    const ran = await agent.call('execute_sql', { sql: 'DROP TABLE old_backup', approval_id: id })
    expect(ran.isError, text(ran)).toBeFalsy()
    expect(ran.structuredContent.status).toBe('executed')
    expect(ran.structuredContent.approval_id).toBe(id)
    expect(await tableExists(database.url, 'old_backup')).toBe(false)

    const reused = await agent.call('execute_sql', { sql: 'DROP TABLE old_backup', approval_id: id })
    expect(reused.isError).toBe(true)
    expect(reused.structuredContent.reason).toBe('used')

    // The approval cannot be given twice either.
    expect((await ddl(ws, ['approve', id, '--yes'])).code).toBe(1)
  })

  it('holds an approved run to its rehearsal: a cascade added after it rolls the run back, showing both', async () => {
    await direct(
      database.url,
      `CREATE TABLE parents (id int PRIMARY KEY); INSERT INTO parents SELECT generate_series(1, 3);
       CREATE TABLE children (id int, parent_id int); INSERT INTO children SELECT g, 1 FROM generate_series(1, 100) g;
       INSERT INTO children VALUES (101, 2)`,
    )
    const pending = await agent.call('execute_sql', { sql: 'DELETE FROM parents WHERE id = 1' })
    const id = String(pending.structuredContent.approval_id)
    expect((pending.structuredContent.rehearsal as string[]).join('\n')).toContain('public.parents: 1 deleted')
    expect((await ddl(ws, ['approve', id, '--yes'])).code).toBe(0)
    // After the person saw the rehearsal, a cascading foreign key appears.
    await direct(
      database.url,
      'ALTER TABLE children ADD CONSTRAINT children_parent FOREIGN KEY (parent_id) REFERENCES parents ON DELETE CASCADE',
    )
    const ran = await agent.call('execute_sql', { sql: 'DELETE FROM parents WHERE id = 1', approval_id: id })
    expect(ran.isError).toBe(true)
    expect(text(ran)).toContain('Effect exceeds the rehearsal')
    expect(text(ran)).toContain('run deleted 100 rows, rehearsal 0')
    const left = await withClient(database.url, (c) => c.query('SELECT count(*)::int AS n FROM children'))
    expect(left.rows[0]?.n).toBe(101)
  })

  it('finds a granted approval by the same SQL alone', async () => {
    await direct(database.url, 'CREATE TABLE scratch (id int)')
    const pending = await agent.call('execute_sql', { sql: 'DROP TABLE scratch' })
    const id = String(pending.structuredContent.approval_id)
    expect((await ddl(ws, ['approve', id, '--yes'])).code).toBe(0)
    const ran = await agent.call('execute_sql', { sql: 'DROP TABLE scratch' })
    expect(ran.structuredContent.status).toBe('executed')
    expect(await tableExists(database.url, 'scratch')).toBe(false)
    // Sending it again asks anew: the used approval does not carry over.
    await direct(database.url, 'CREATE TABLE scratch (id int)')
    const next = await agent.call('execute_sql', { sql: 'DROP TABLE scratch' })
    expect(next.structuredContent.status).toBe('pending_approval')
    expect(next.structuredContent.approval_id).not.toBe(id)
    expect(await tableExists(database.url, 'scratch')).toBe(true)
  })

  it('tells the agent when a person denied it', async () => {
    await direct(database.url, 'CREATE TABLE denied_one (id int)')
    const pending = await agent.call('execute_sql', { sql: 'TRUNCATE denied_one' })
    expect(pending.structuredContent.tier).toBe('cautious')
    const id = String(pending.structuredContent.approval_id)
    expect((await ddl(ws, ['approve', '--deny', id])).code).toBe(0)
    const refused = await agent.call('execute_sql', { sql: 'TRUNCATE denied_one', approval_id: id })
    expect(refused.structuredContent.reason).toBe('denied')
    expect((await ddl(ws, ['approve', id, '--yes'])).code).toBe(1)
  })

  it('records every step in the audit log', async () => {
    const records = await ws.records()
    const by = (pred: (r: (typeof records)[number]) => boolean) => records.filter(pred)
    const drop = (r: (typeof records)[number]) => r.statement === 'DROP TABLE old_backup'
    expect(by((r) => drop(r) && r.outcome === 'rehearsed')).toHaveLength(1)
    const requested = by((r) => drop(r) && r.outcome === 'blocked' && (r.source ?? '').includes('waiting for a person'))
    expect(requested).toHaveLength(1)
    expect(requested[0]?.actor).toBe('mcp:vitest-agent')
    const approved = by((r) => drop(r) && r.outcome === 'dry_run' && (r.source ?? '').includes('approved by'))
    expect(approved).toHaveLength(1)
    expect(approved[0]?.actor).not.toMatch(/^mcp:/)
    expect(approved[0]?.flags.iKnowWhatImDoing).toBe(true)
    const refusals = by((r) => drop(r) && r.outcome === 'blocked' && (r.source ?? '').endsWith(': refused'))
    expect(refusals.map((r) => r.error)).toEqual([expect.stringContaining('already used')])
    expect(by((r) => r.statement === 'DROP TABLE keep_me' && r.outcome === 'blocked')).toHaveLength(1)
    const committed = by((r) => drop(r) && r.outcome === 'committed')
    expect(committed).toHaveLength(1)
    expect(committed[0]?.actor).toBe('mcp:vitest-agent')
    expect(committed[0]?.flags.iKnowWhatImDoing).toBe(true)
    expect(committed[0]?.source).toContain('approved by')
    expect(by((r) => r.statement === 'TRUNCATE denied_one' && (r.source ?? '').includes('denied by'))).toHaveLength(1)

    const tail = await agent.call('audit_tail', { limit: 5 })
    expect(tail.structuredContent.status).toBe('ok')
    expect((tail.structuredContent.records as unknown[]).length).toBe(5)
  })
})
