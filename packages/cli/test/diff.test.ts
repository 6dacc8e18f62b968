import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Webhook } from 'standardwebhooks'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { startReceiver } from '../../../test/support/http-receiver.js'
import { registerDiff, registerDrift } from '../src/commands/diff.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('clidiff')
let dir = ''

async function ddl(
  argv: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => '',
    env: { DDL_DATABASE_URL: database.url, DDL_AUDIT_LOG: join(dir, 'audit.jsonl'), ...extraEnv },
    cwd: dir,
    color: false,
  }
  const code = await run(argv, { io, exitCode: 0 }, [registerDiff, registerDrift])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-diff-'))
  mkdirSync(join(dir, 'migrations'))
  writeFileSync(join(dir, 'migrations', '001_users.sql'), 'CREATE TABLE users (id bigint PRIMARY KEY, email text);\n')
  writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE users (id bigint PRIMARY KEY, email text, phone text);\n')
  await withClient(database.url, (c) => c.query('CREATE TABLE users (id bigint PRIMARY KEY, name text)'))
})

describe('ddl diff', () => {
  it('prints SQL with each statement classified, which psql could apply', async () => {
    const r = await ddl(['diff', 'migrations', 'schema.sql', '--shadow', database.adminUrl])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('-- safe; lock AccessExclusiveLock')
    expect(r.stdout).toContain('ALTER TABLE "public"."users" ADD COLUMN "phone" text;')
    // Every line is a comment or part of a statement: nothing else for psql to choke on.
    const sql = r.stdout
      .split('\n')
      .filter((l) => !l.startsWith('--') && l.trim() !== '')
      .join('\n')
    expect(sql).toBe('ALTER TABLE "public"."users" ADD COLUMN "phone" text;')
    expect(r.stdout).not.toContain(database.password)
  })

  it('exits 1 with --exit-code when the schemas differ, 0 when they do not', async () => {
    expect((await ddl(['diff', 'migrations', 'schema.sql', '--exit-code', '--shadow', database.adminUrl])).code).toBe(1)
    const same = await ddl(['diff', 'migrations', 'migrations', '--exit-code', '--shadow', database.adminUrl])
    expect(same.code).toBe(0)
    expect(same.stdout).toContain('nothing to change')
  })

  it('reports a column renamed against the live database as a possible rename, in JSON', async () => {
    const r = await ddl(['diff', 'migrations', database.url, '--format', 'json', '--shadow', database.adminUrl])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout) as { renames: { from: string; to: string; dropCreate: { tier: string }[] }[] }
    expect(json.renames).toHaveLength(1)
    expect(json.renames[0]).toMatchObject({ from: 'public.users.email', to: 'public.users.name' })
    expect(json.renames[0]?.dropCreate.map((s) => s.tier)).toContain('cautious')
    expect(r.stdout).not.toContain(database.password)
  })

  it('writes the next migration of the directory with --write', async () => {
    const r = await ddl([
      'diff',
      'migrations',
      'schema.sql',
      '--write',
      'migrations',
      '--name',
      'add phone',
      '--shadow',
      database.adminUrl,
    ])
    expect(r.code).toBe(0)
    expect(readdirSync(join(dir, 'migrations')).sort()).toEqual(['001_users.sql', '002_add_phone.sql'])
    const written = readFileSync(join(dir, 'migrations', '002_add_phone.sql'), 'utf8')
    expect(written).toContain('ADD COLUMN "phone" text;')
    // The written migration brings migrations up to schema.sql.
    const again = await ddl(['diff', 'migrations', 'schema.sql', '--exit-code', '--shadow', database.adminUrl])
    expect(again.code).toBe(0)
  })

  it('refuses an unknown source as a usage error', async () => {
    const r = await ddl(['diff', 'no-such-dir', 'schema.sql', '--shadow', database.adminUrl])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no-such-dir')
  })
})

describe('ddl drift', () => {
  it('exits 1 and names the table the migrations do not produce', async () => {
    const drift = mkdtempSync(join(tmpdir(), 'ddl-cli-drift-'))
    writeFileSync(join(drift, '001_a.sql'), 'CREATE TABLE a (id int);\n')
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    await client.query('CREATE TABLE IF NOT EXISTS b (id int)')
    await client.end()
    const r = await ddl(['drift', drift, '--shadow', database.adminUrl])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('added         relation public.b')
    expect(r.stdout).not.toContain(database.password)
  })

  it('sends one signed drift.found event to a configured sink, and the same drift again is the same event', async () => {
    const receiver = await startReceiver()
    try {
      const drift = mkdtempSync(join(tmpdir(), 'ddl-cli-drift-'))
      writeFileSync(join(drift, '001_a.sql'), 'CREATE TABLE a (id int);\n')
      await withClient(database.url, (c) => c.query('CREATE TABLE IF NOT EXISTS b (id int)'))
      const secret = `whsec_${Buffer.from('drift-secret-for-tests-0123456789').toString('base64')}`
      const env = { DDL_NOTIFY_URL: receiver.url, DDL_NOTIFY_SECRET: secret, DDL_NOTIFY_KIND: 'webhook' }
      const first = await ddl(['drift', drift, '--shadow', database.adminUrl], env)
      expect(first.code).toBe(1)
      const second = await ddl(['drift', drift, '--shadow', database.adminUrl], env)
      expect(second.code).toBe(1)
      const wh = new Webhook(secret)
      const events = receiver.received.map(
        (m) =>
          wh.verify(m.body, m.headers as Record<string, string>) as {
            type: string
            data: { id: string; reason?: string }
          },
      )
      expect(events.map((e) => e.type)).toEqual(['drift.found', 'drift.found'])
      expect(events[0]?.data.reason).toContain('added')
      // The same drift is the same event: a receiver de-duplicates on its id.
      expect(events[1]?.data.id).toBe(events[0]?.data.id)
      for (const m of receiver.received) expect(m.body).not.toContain(database.password)
    } finally {
      await receiver.close()
    }
  })
})
