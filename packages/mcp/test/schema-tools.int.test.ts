import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { type Agent, connectAgent, direct, type Workspace, workspace } from './harness.js'

const database = testDatabase('mcp_schema')
let ws: Workspace
let agent: Agent

beforeAll(async () => {
  ws = await workspace(database.url)
  await mkdir(join(ws.dir, 'migrations'))
  await writeFile(join(ws.dir, 'migrations', '001_a.sql'), 'CREATE TABLE a (id int PRIMARY KEY);\n')
  await direct(database.url, 'CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE handmade (id int)')
  agent = await connectAgent(ws)
})

afterAll(async () => {
  await agent?.close()
  await ws?.remove()
})

describe('schema_diff and schema_drift', () => {
  it('shows the classified SQL between the migrations and the database, running nothing', async () => {
    const result = await agent.call('schema_diff', { dir: 'migrations' })
    const s = result.structuredContent as { identical: boolean; statements: { sql: string; tier: string }[] }
    expect(s.identical).toBe(false)
    expect(s.statements.map((x) => x.sql)).toContain('CREATE TABLE "public"."handmade" ("id" integer)')
    // Read-only: the database still has the table, and nothing else was created.
    const back = await agent.call('schema_diff', { dir: 'migrations', direction: 'to_migrations' })
    const b = back.structuredContent as { statements: { sql: string; tier: string }[] }
    expect(b.statements.map((x) => [x.sql, x.tier])).toContainEqual(['DROP TABLE "public"."handmade"', 'destructive'])
  }, 120_000)

  it('reports a table made outside migrations as drift', async () => {
    const result = await agent.call('schema_drift', { dir: 'migrations' })
    const s = result.structuredContent as { drifted: boolean; added: string[] }
    expect(s.drifted).toBe(true)
    expect(s.added).toContain('relation public.handmade')
  }, 120_000)
})
