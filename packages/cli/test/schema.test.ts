import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { registerSchema } from '../src/commands/schema.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('clischema')
let dir = ''

async function ddlSchema(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => '',
    env: { DDL_DATABASE_URL: database.url, DDL_AUDIT_LOG: join(dir, 'audit.jsonl') },
    cwd: dir,
    color: false,
  }
  const code = await run(['schema', ...argv], { io, exitCode: 0 }, [registerSchema])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-schema-'))
  await withClient(database.url, (c) =>
    c.query(
      `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, status text DEFAULT 'active');
       CREATE VIEW active_users AS SELECT * FROM users WHERE status = 'active';`,
    ),
  )
})

describe('ddl schema', () => {
  it('lists tables and views', async () => {
    const r = await ddlSchema([])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^public\.active_users {2}view\s*\npublic\.users {9}table/)
  })

  it('describes a table: columns, indexes, constraints', async () => {
    const r = await ddlSchema(['users'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        'public.users (table)',
        '  id      integer  not null',
        '  email   text     not null',
        "  status  text     null      default 'active'::text",
        'Indexes:',
        '  users_pkey: CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)',
        'Constraints:',
        '  users_pkey (primary key): PRIMARY KEY (id)',
        '',
      ].join('\n'),
    )
  })

  it('prints JSON with --json', async () => {
    const r = await ddlSchema(['public.users', '--json'])
    expect(JSON.parse(r.stdout).result.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'email', 'status'])
  })

  it('exits 1 for a table that does not exist', async () => {
    const r = await ddlSchema(['nope'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('relation "nope" does not exist')
  })
})
