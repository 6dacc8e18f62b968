import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { registerQuery } from '../src/commands/query.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('cliquery')
let dir = ''

async function ddlQuery(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
  const code = await run(['query', ...argv], { io, exitCode: 0 }, [registerQuery])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-query-'))
  await withClient(database.url, (c) =>
    c.query(
      "CREATE TABLE users (id int, email text, note text); INSERT INTO users VALUES (1, 'ada@example.com', NULL), (2, 'bob@example.com', 'x')",
    ),
  )
})

describe('ddl query', () => {
  it('prints rows as a table with a count', async () => {
    const r = await ddlQuery(['SELECT id, email, note FROM users ORDER BY id'])
    expect(r).toEqual({
      code: 0,
      stdout: [
        'id | email           | note',
        '---+-----------------+-----',
        '1  | ada@example.com | NULL',
        '2  | bob@example.com | x',
        '(2 rows)',
        '',
      ].join('\n'),
      stderr: '',
    })
  })

  it('binds --param values', async () => {
    const r = await ddlQuery(['SELECT id FROM users WHERE email = $1', '--param', 'bob@example.com', '--json'])
    expect(JSON.parse(r.stdout).result.rows).toEqual([{ id: 2 }])
  })

  it('refuses a write with exit 1 and points to ddl exec', async () => {
    const r = await ddlQuery(['DELETE FROM users'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ddl query only reads')
    expect(r.stderr).toContain('ddl exec')
  })

  it('exits 2 without SQL', async () => {
    expect((await ddlQuery([])).code).toBe(2)
  })
})
