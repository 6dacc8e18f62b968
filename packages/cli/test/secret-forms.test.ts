/**
 * Issue 17: secrets of every common shape stay out of `ddl exec --json` output, errors and the audit
 * log file: connection URLs of any scheme in comments and strings, PGPASSWORD=, bearer tokens, API
 * keys, sslpassword/password options of user mappings, and data Postgres echoes in its errors.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { registerExec } from '../src/commands/exec.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('clisecrets')
let dir = ''
let auditPath = ''
const hex = () => randomBytes(12).toString('hex')

async function ddlExec(argv: readonly string[]): Promise<{ code: number; output: string }> {
  const out: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => out.push(text),
    readStdin: async () => '',
    env: { DDL_DATABASE_URL: database.url, DDL_AUDIT_LOG: auditPath },
    cwd: dir,
    color: false,
  }
  const code = await run(['exec', ...argv], { io, exitCode: 0 }, [registerExec])
  return { code, output: out.join('') }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-secrets-'))
  auditPath = join(dir, 'audit.jsonl')
  await withClient(database.url, (c) => c.query('CREATE TABLE notes (id int); CREATE TABLE tokens (t text UNIQUE)'))
})

describe('no secret of any common shape reaches the output or the audit log', () => {
  const s = {
    mysql: `my${hex()}`,
    redis: `rd${hex()}`,
    https: `ht${hex()}`,
    pgpassword: `pg${hex()}`,
    bearer: `Br${hex()}`,
    openai: `sk-proj-${hex()}`,
    github: `ghp_${hex()}${hex().slice(0, 12)}`,
    slack: `xoxb-1234-${hex()}`,
    aws: `AKIA${hex().toUpperCase().slice(0, 16)}`,
    password: `pw${hex()}`,
    sslpassword: `ssl${hex()}`,
  }
  const scripts: Record<string, string> = {
    'URL in a line comment': `COMMENT ON TABLE notes IS 'n' -- mysql://app:${s.mysql}@db.internal/app`,
    'URL in a string': `COMMENT ON TABLE notes IS 'cache at redis://:${s.redis}@cache:6379/0'`,
    'URL in a block comment': `/* https://deploy:${s.https}@git.example.com/repo */ COMMENT ON TABLE notes IS 'n'`,
    PGPASSWORD: `COMMENT ON TABLE notes IS 'n' -- run with PGPASSWORD=${s.pgpassword} psql`,
    'bearer token': `COMMENT ON TABLE notes IS 'Authorization: Bearer ${s.bearer}'`,
    'API keys': `COMMENT ON TABLE notes IS '${s.openai} ${s.github} ${s.slack} ${s.aws}'`,
  }
  for (const [name, sql] of Object.entries(scripts)) {
    it(`keeps out a ${name}`, async () => {
      const r = await ddlExec([sql, '--json'])
      expect(r.code, r.output).toBe(0)
      const log = readFileSync(auditPath, 'utf8')
      for (const [kind, secret] of Object.entries(s)) {
        expect(r.output, kind).not.toContain(secret)
        expect(log, kind).not.toContain(secret)
      }
      expect(log).toContain('***')
    })
  }

  it('keeps out password and sslpassword options of a user mapping, and errors', async () => {
    const setup = await ddlExec([
      "CREATE FOREIGN DATA WRAPPER secret_fdw; CREATE SERVER secret_srv FOREIGN DATA WRAPPER secret_fdw OPTIONS (host 'db')",
      '--i-know-what-im-doing',
    ])
    expect(setup.code, setup.output).toBe(0)
    const mapping = `CREATE USER MAPPING FOR CURRENT_USER SERVER secret_srv OPTIONS (user 'app', password '${s.password}', sslpassword '${s.sslpassword}')`
    const ok = await ddlExec([mapping, '--i-know-what-im-doing', '--json'])
    expect(ok.code, ok.output).toBe(0)
    // The same again fails (the mapping exists): the error and its audit record are clean too.
    const again = await ddlExec([mapping, '--i-know-what-im-doing', '--json'])
    expect(again.code).toBe(1)
    expect(again.output).toContain('already exists')
    const log = readFileSync(auditPath, 'utf8')
    for (const secret of [s.password, s.sslpassword]) {
      expect(ok.output).not.toContain(secret)
      expect(again.output).not.toContain(secret)
      expect(log).not.toContain(secret)
    }
  })

  it('keeps out data Postgres echoes in an error message and detail', async () => {
    const stored = `tok${hex()}`
    const key = `sk-live${hex()}`
    await withClient(database.url, async (c) => {
      await c.query('INSERT INTO tokens VALUES ($1), ($2)', [stored, key])
      await c.query('CREATE TABLE guarded (t text CHECK (length(t) < 5))')
    })
    // A unique key's value is kept (it names the conflict), unless it has a secret's shape.
    const duplicate = await ddlExec([`INSERT INTO tokens SELECT t FROM tokens WHERE t LIKE 'sk-%'`, '--json'])
    expect(duplicate.code).toBe(1)
    expect(duplicate.output).toContain('Key (t)=(***) already exists')
    const typed = await ddlExec(["SELECT (SELECT t FROM tokens WHERE t LIKE 'tok%')::int AS n", '--json'])
    expect(typed.code).toBe(1)
    expect(typed.output).toContain('invalid input syntax for type integer: \\"***\\"')
    const row = await ddlExec(["INSERT INTO guarded SELECT t FROM tokens WHERE t LIKE 'tok%'", '--json'])
    expect(row.code).toBe(1)
    expect(row.output).toContain('Failing row contains (***)')
    const log = readFileSync(auditPath, 'utf8')
    for (const text of [duplicate.output, typed.output, row.output, log]) {
      expect(text).not.toContain(stored)
      expect(text).not.toContain(key)
    }
  })
})
