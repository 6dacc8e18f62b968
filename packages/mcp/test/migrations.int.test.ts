import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { type Agent, connectAgent, ddl, tableExists, text, type Workspace, workspace } from './harness.js'

const database = testDatabase('mcp_migrations')
let ws: Workspace
let agent: Agent

beforeAll(async () => {
  ws = await workspace(database.url, { mcp: { migrationsDir: 'migrations' } })
  await mkdir(join(ws.dir, 'migrations'))
  await writeFile(join(ws.dir, 'migrations', '1_create.sql'), 'CREATE TABLE mig_a (id int PRIMARY KEY);\n')
  await writeFile(join(ws.dir, 'migrations', '2_column.sql'), 'ALTER TABLE mig_a ADD COLUMN note text;\n')
  agent = await connectAgent(ws)
})

afterAll(async () => {
  await agent?.close()
  await ws?.remove()
})

describe('migrations through MCP', () => {
  it('shows pending migrations and applies safe ones at once', async () => {
    const status = await agent.call('migration_status', {})
    expect(status.structuredContent.status).toBe('ok')
    expect(text(status)).toContain('2 pending')
    const applied = await agent.call('apply_migrations', {})
    expect(applied.structuredContent.status, text(applied)).toBe('executed')
    expect(applied.structuredContent.applied).toEqual([
      expect.objectContaining({ name: '1_create.sql' }),
      expect.objectContaining({ name: '2_column.sql' }),
    ])
    expect(await tableExists(database.url, 'mig_a')).toBe(true)
  })

  it('waits for a person for a destructive file, binds the approval to its bytes, then applies it once', async () => {
    const file = join(ws.dir, 'migrations', '3_drop.sql')
    await writeFile(file, 'DROP TABLE mig_a;\n')
    const pending = await agent.call('apply_migrations', { dir: 'migrations' })
    expect(pending.structuredContent.status).toBe('pending_approval')
    expect(pending.structuredContent.tier).toBe('destructive')
    const id = String(pending.structuredContent.approval_id)
    expect(await tableExists(database.url, 'mig_a')).toBe(true)

    const approved = await ddl(ws, ['approve', id, '--yes'])
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain('Migration file "3_drop.sql"')
    expect(approved.stdout).toContain('3_drop.sql line 1 [DESTRUCTIVE] DROP TABLE mig_a')

    // The approval is for apply_migrations: the same text through execute_sql is refused.
    const canonical = '-- migration: "3_drop.sql"\nDROP TABLE mig_a;\n\n;\n'
    const elsewhere = await agent.call('execute_sql', { sql: canonical, approval_id: id })
    expect(elsewhere.structuredContent.reason).toBe('tool-mismatch')

    // The file changes after the approval: the approval does not cover it.
    await writeFile(file, 'DROP TABLE mig_a CASCADE;\n')
    const changed = await agent.call('apply_migrations', { dir: 'migrations', approval_id: id })
    expect(changed.structuredContent.reason).toBe('sql-mismatch')
    expect(await tableExists(database.url, 'mig_a')).toBe(true)

    await writeFile(file, 'DROP TABLE mig_a;\n')
    const ran = await agent.call('apply_migrations', { dir: 'migrations', approval_id: id })
    expect(ran.structuredContent.status, text(ran)).toBe('executed')
    expect(await tableExists(database.url, 'mig_a')).toBe(false)
    const again = await agent.call('apply_migrations', { dir: 'migrations', approval_id: id })
    expect(text(again)).toContain('Nothing to apply')

    // The engine records each file's name as the source; the approval's own records name the id.
    const records = (await ws.records()).filter((r) => r.statement === 'DROP TABLE mig_a')
    const committed = records.filter((r) => r.outcome === 'committed')
    expect(committed).toHaveLength(1)
    expect(committed[0]).toMatchObject({ actor: 'mcp:vitest-agent', source: '3_drop.sql' })
    expect(committed[0]?.flags.iKnowWhatImDoing).toBe(true)
    const granted = records.filter(
      (r) => r.outcome === 'dry_run' && r.source?.startsWith(`mcp approval ${id}: approved`),
    )
    expect(granted).toHaveLength(1)
  })
})
