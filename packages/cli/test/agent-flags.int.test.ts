/**
 * Override flags typed by a coding agent are a request: the real `ddl` binary, a real database, the
 * same approval store and `ddl approve` as the MCP server's.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'

const database = testDatabase('cli_agent_flags')
const CLI = join(resolve(import.meta.dirname, '../../..'), 'packages/cli/bin/ddl.js')
const run = promisify(execFile)
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function space(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ddl-agent-flags-'))
  dirs.push(dir)
  return {
    dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      DDL_DATABASE_URL: database.url,
      DDL_AUDIT_LOG: join(dir, 'audit.jsonl'),
      DDL_APPROVALS_DIR: join(dir, 'approvals'),
    },
  }
}

async function ddl(dir: string, env: Record<string, string>, args: readonly string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: dir, env })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

async function sql(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  try {
    return await client.query(text)
  } finally {
    await client.end()
  }
}

const exists = async (table: string) =>
  (await sql(`SELECT to_regclass('${table}') IS NOT NULL AS e`)).rows[0]?.e === true

describe('override flags typed under a coding agent', () => {
  it('turns ddl exec --i-know-what-im-doing into a pending approval that a person lets run once', async () => {
    const { dir, env } = await space()
    await sql('CREATE TABLE agent_t (id int)')
    const agent = { ...env, CLAUDECODE: '1' }
    const asked = await ddl(dir, agent, ['exec', '--i-know-what-im-doing', 'DROP TABLE agent_t'])
    expect(asked.code).toBe(1)
    expect(asked.stderr).toContain('The environment shows a coding agent (CLAUDECODE)')
    const id = /ddl approve (ap-[0-9a-z]{10})/.exec(asked.stderr)?.[1]
    expect(id).toBeDefined()
    expect(await exists('agent_t')).toBe(true)

    // Asking again does not run it either, and finds the same request.
    const again = await ddl(dir, agent, ['exec', '--i-know-what-im-doing', 'DROP TABLE agent_t'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`Still waiting for approval ${id}`)
    expect(await exists('agent_t')).toBe(true)

    // The agent cannot approve from its own environment.
    expect((await ddl(dir, agent, ['approve', String(id), '--yes'])).code).toBe(1)
    // The person approves, in an environment without the agent's markers.
    const approved = await ddl(dir, env, ['approve', String(id), '--yes'])
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain('[DESTRUCTIVE] DROP TABLE agent_t')

    const ran = await ddl(dir, agent, ['exec', '--i-know-what-im-doing', 'DROP TABLE agent_t'])
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stderr).toContain(`running with approval ${id}`)
    expect(await exists('agent_t')).toBe(false)

    // Once only: the same command makes a new request instead of running again.
    await sql('CREATE TABLE agent_t (id int)')
    const twice = await ddl(dir, agent, ['exec', '--i-know-what-im-doing', 'DROP TABLE agent_t'])
    expect(twice.code).toBe(1)
    expect(twice.stderr).not.toContain(String(id))
    expect(await exists('agent_t')).toBe(true)
    await sql('DROP TABLE agent_t')
  })

  it('treats a marker named in DDL_AGENT_MARKERS the same, and runs when the person trusts agent flags', async () => {
    const { dir, env } = await space()
    await sql('CREATE TABLE agent_u (id int)')
    const marked = { ...env, DDL_AGENT_MARKERS: 'MY_AGENT', MY_AGENT: 'yes' }
    const asked = await ddl(dir, marked, ['exec', '--confirm', 'TRUNCATE agent_u'])
    expect(asked.code).toBe(1)
    expect(asked.stderr).toContain('coding agent (MY_AGENT)')
    const trusted = await ddl(dir, { ...marked, DDL_TRUST_AGENT_FLAGS: '1' }, ['exec', '--confirm', 'TRUNCATE agent_u'])
    expect(trusted.code, trusted.stderr).toBe(0)
    await sql('DROP TABLE agent_u')
  })

  it('turns ddl migrate --i-know-what-im-doing into a pending approval of the files', async () => {
    const { dir, env } = await space()
    await sql('CREATE TABLE agent_m (id int)')
    await mkdir(join(dir, 'migrations'))
    await writeFile(join(dir, 'migrations', '1_drop.sql'), 'DROP TABLE agent_m;\n')
    const agent = { ...env, CURSOR_AGENT: '1' }
    const asked = await ddl(dir, agent, ['migrate', 'migrations', '--i-know-what-im-doing'])
    expect(asked.code).toBe(1)
    expect(asked.stderr).toContain('1_drop.sql line 1 [DESTRUCTIVE] DROP TABLE agent_m')
    expect(await exists('agent_m')).toBe(true)
    const id = /ddl approve (ap-[0-9a-z]{10})/.exec(asked.stderr)?.[1]
    expect((await ddl(dir, env, ['approve', String(id), '--yes'])).code).toBe(0)
    const ran = await ddl(dir, agent, ['migrate', 'migrations', '--i-know-what-im-doing'])
    expect(ran.code, ran.stderr).toBe(0)
    expect(await exists('agent_m')).toBe(false)
  })
})
