/**
 * No secret anywhere (issue 11): the suite's main scenarios run with the server's known password in
 * the connection string and a `PASSWORD '<marker>'` literal in the SQL; neither may appear in any
 * result, error (String, util.inspect to depth 20 with hidden fields, JSON), CLI output (stdout and
 * stderr, text and --json) or audit file.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { PostgresAPI, runMigrationsFromDir, unwrap } from '@ddl/executor/internal'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { folder, freshDatabase } from './migrate-support.js'

const bin = fileURLToPath(new URL('../bin/ddl.js', import.meta.url))
const password = inject('databasePassword')
const marker = `mk${randomBytes(10).toString('hex')}`
const wrongPassword = `wrong${randomBytes(10).toString('hex')}`
const tag = randomBytes(4).toString('hex')

/** Everything a person, a log or a JSON consumer could ever see of a value. */
function everything(value: unknown): string {
  let json: string
  try {
    json = JSON.stringify(value) ?? ''
  } catch (error) {
    json = `unserialisable: ${String(error)}`
  }
  return `${String(value)}\n${inspect(value, { depth: 20, showHidden: true })}\n${json}`
}

/** Collects what each scenario produced, by name, to search it once at the end. */
const seen: [string, string][] = []
function record<T>(name: string, value: T): T {
  seen.push([name, everything(value)])
  return value
}

function leaks(): string[] {
  const found: string[] = []
  for (const [name, text] of seen) {
    if (password !== '' && text.includes(password)) found.push(`${name}: the server password`)
    if (text.includes(marker)) found.push(`${name}: the PASSWORD literal`)
    if (text.includes(wrongPassword)) found.push(`${name}: the wrong password`)
  }
  return found
}

function auditDir(): { dir: string; audit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-secrets-'))
  return { dir, audit: join(dir, 'audit.jsonl') }
}

function fileText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : ''
}

/** A port where nothing listens. */
function deadPortUrl(url: string): string {
  const u = new URL(url)
  u.port = '1'
  return u.toString()
}

function withPassword(url: string, pw: string): string {
  const u = new URL(url)
  u.password = pw
  return u.toString()
}

let url: string
const audits: string[] = []

beforeAll(async () => {
  url = await freshDatabase()
  expect(password.length).toBeGreaterThan(0)
  expect(url).toContain(password)
})

afterAll(async () => {
  // The roles are cluster-wide: remove them (directly, not through the gate).
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: inject('databaseUrl') })
  await client.connect()
  try {
    for (const role of [`api_${tag}`, `tx_${tag}`, `mig_${tag}`, `cli_${tag}`]) {
      await client.query(`DROP ROLE IF EXISTS ${role}`)
    }
  } finally {
    await client.end()
  }
})

describe('secrets through PostgresAPI', () => {
  it('runs execute (ok, refused, failed, rehearsed, dry run), query, transaction, schema and migrations', async () => {
    const { dir, audit } = auditDir()
    audits.push(audit)
    const db = new PostgresAPI(undefined, { cwd: dir, env: { DDL_DATABASE_URL: url }, auditPath: audit })
    const role = `api_${tag}`
    const create = `CREATE ROLE ${role} PASSWORD '${marker}'`
    const all = { confirm: true, iKnowWhatImDoing: true } as const
    try {
      expect(record('execute ok', await db.execute('CREATE TABLE s (id int)')).isOk()).toBe(true)
      expect(record('execute CREATE ROLE', await db.execute(create, all)).isOk()).toBe(true)
      const refused = record('execute refused', await db.execute(`${create}; DROP TABLE s`))
      expect(refused._unsafeUnwrapErr().kind).toBe('SafetyError')
      const failed = record('execute failed (role exists)', await db.execute(create, all))
      expect(failed._unsafeUnwrapErr()).toMatchObject({ kind: 'PostgresError', code: '42710' })
      record(
        'execute failed later in script',
        await db.execute(`ALTER ROLE ${role} PASSWORD '${marker}'; SELECT 1/0`, all),
      )
      record('execute unparsable', await db.execute(`CREATE ROLE x_${tag} PASSWORD '${marker}' BOGUS`, all))
      record('execute ALTER USER', await db.execute(`ALTER USER ${role} WITH ENCRYPTED PASSWORD '${marker}'`, all))
      record('rehearsal', await db.execute(`ALTER ROLE ${role} PASSWORD '${marker}'`, { ...all, rehearse: true }))
      // A dry run hands back the caller's Plan, whose statement texts are the input verbatim (what
      // would be sent); everything it renders (message, refusal, findings) must be redacted.
      const dry = await db.execute(`ALTER ROLE ${role} PASSWORD '${marker}'`, { dryRun: true })
      expect(dry._unsafeUnwrap().plan.statements[0]?.text).toContain(marker)
      record(
        'dry run',
        dry.map((r) => ({ ...r, plan: undefined })),
      )
      record('query ok', await db.query('SELECT rolname FROM pg_roles WHERE rolname = $1', [role]))
      record('query refused', await db.query(create))
      record('query failed', await db.query('SELECT * FROM no_such_table'))
      record(
        'query with the marker as a parameter',
        await db.query(`SELECT 1 FROM pg_roles WHERE rolname = $1 AND $2 = ''`, [role, marker]),
      )
      record(
        'transaction',
        await db.transaction(async (tx) => {
          await unwrap(tx.execute(`CREATE ROLE tx_${tag} PASSWORD '${marker}'`, all))
          return unwrap(tx.execute(`CREATE ROLE tx_${tag} PASSWORD '${marker}'`, all))
        }),
      )
      record('getSchema', await db.getSchema('s'))
      record('getSchema missing', await db.getSchema('nope'))
      record('tableExists', await db.tableExists('s'))
      record('the API object', db)
    } finally {
      await db.close()
    }
  })

  it('runs a migration folder that creates a role, then one that fails on it', async () => {
    const { dir: cwd, audit } = auditDir()
    audits.push(audit)
    const create = `CREATE ROLE mig_${tag} PASSWORD '${marker}';\n`
    const dir = folder({ '1_role.sql': create })
    const options = { cwd, env: { DDL_DATABASE_URL: url }, auditPath: audit, iKnowWhatImDoing: true, confirm: true }
    record('migration ok', await runMigrationsFromDir(dir, options))
    writeFileSync(join(dir, '2_again.sql'), `CREATE TABLE m (id int);\n${create}`)
    record('migration failed', await runMigrationsFromDir(dir, options))
    record(
      'migration refused',
      await runMigrationsFromDir(folder({ '1_r.sql': create }), { ...options, iKnowWhatImDoing: false }),
    )
  })

  it('fails to connect with a wrong password, to a server that is down, and with a malformed URL', async () => {
    const { dir, audit } = auditDir()
    audits.push(audit)
    const cases: [string, string][] = [
      ['wrong password', withPassword(url, wrongPassword)],
      ['server down', deadPortUrl(url)],
      ['malformed URL', `postgres://postgres:${password}@127.0.0.1:notaport/db`],
    ]
    for (const [name, target] of cases) {
      const db = new PostgresAPI(undefined, { cwd: dir, env: { DDL_DATABASE_URL: target }, auditPath: audit })
      try {
        const result = await db.execute(`CREATE ROLE never_${tag} PASSWORD '${marker}'`, { iKnowWhatImDoing: true })
        expect(result.isErr(), name).toBe(true)
        record(`${name}: execute`, result)
        record(`${name}: query`, await db.query('SELECT 1'))
        record(
          `${name}: migration`,
          await runMigrationsFromDir(folder({ '1_a.sql': 'SELECT 1;\n' }), {
            url: target,
            cwd: dir,
            env: {},
            auditPath: audit,
          }),
        )
        record(`${name}: the API object`, db)
      } finally {
        await db.close()
      }
    }
  })
})

describe('secrets through the ddl CLI', () => {
  /** Runs `node bin/ddl.js ...args` with `DDL_DATABASE_URL`, and records its output. */
  function ddl(
    name: string,
    args: readonly string[],
    databaseUrl: string,
    audit: string,
    cwd: string,
    stdout: (text: string) => unknown = (text) => text,
  ): number | null {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DDL_DATABASE_URL: databaseUrl,
      DDL_AUDIT_LOG: audit,
      NO_COLOR: '1',
    }
    delete env.DATABASE_URL
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 })
    record(`ddl ${name}: stdout`, stdout(r.stdout))
    record(`ddl ${name}: stderr`, r.stderr)
    return r.status
  }

  it('runs exec, query, migrate, schema, check and audit with the URL in DDL_DATABASE_URL, in text and --json', () => {
    const { dir: cwd, audit } = auditDir()
    audits.push(audit)
    const role = `cli_${tag}`
    const create = `CREATE ROLE ${role} PASSWORD '${marker}'`
    writeFileSync(join(cwd, 'role.sql'), `${create};\n`)
    const migrations = folder({
      '1_role.sql': `ALTER ROLE ${role} PASSWORD '${marker}';\n`,
      '2_bad.sql': `${create};\n`,
    })
    const codes: [string, number | null][] = []
    const run = (name: string, args: readonly string[], target = url, stdout?: (text: string) => unknown) => {
      codes.push([name, ddl(name, args, target, audit, cwd, stdout)])
    }
    for (const json of [[], ['--json']] as const) {
      const j = json.length > 0 ? ' --json' : ''
      run(`exec ok${j}`, ['exec', 'CREATE TABLE IF NOT EXISTS c (id int)', ...json])
      run(`exec CREATE ROLE${j}`, [
        'exec',
        `${create} ${json.length > 0 ? 'LOGIN' : ''}`,
        '--i-know-what-im-doing',
        ...json,
      ])
      run(`exec refused${j}`, ['exec', create, ...json])
      run(`exec failed${j}`, ['exec', '-f', 'role.sql', '--i-know-what-im-doing', '--confirm', ...json])
      run(`exec dry run${j}`, ['exec', create, '--dry-run', ...json])
      run(`exec rehearse${j}`, [
        'exec',
        `ALTER ROLE ${role} PASSWORD '${marker}'`,
        '--rehearse',
        '--i-know-what-im-doing',
        '--confirm',
        ...json,
      ])
      run(`query ok${j}`, ['query', 'SELECT rolname FROM pg_roles WHERE rolname = $1', '-p', role, ...json])
      run(`query refused${j}`, ['query', create, ...json])
      run(`migrate${j}`, ['migrate', migrations, '--i-know-what-im-doing', '--confirm', ...json])
      run(`migrate --plan${j}`, ['migrate', migrations, '--plan', ...json])
      run(`migrate status${j}`, ['migrate', 'status', migrations, ...json])
      run(`schema${j}`, ['schema', ...json])
      run(`schema c${j}`, ['schema', 'c', ...json])
      run(`exec wrong password${j}`, ['exec', 'SELECT 1', ...json], withPassword(url, wrongPassword))
      run(`query server down${j}`, ['query', 'SELECT 1', ...json], deadPortUrl(url))
      run(`migrate server down${j}`, ['migrate', migrations, ...json], deadPortUrl(url))
    }
    run('check', ['check', 'role.sql'])
    // The JSON report's `text` is, by its documented contract, the statement exactly as in the file
    // (docs/cli/check.md); every other field, and the other formats, must be redacted.
    run('check --format json', ['check', 'role.sql', '--format', 'json'], url, (text) => {
      const report = JSON.parse(text) as { files: { statements: { text?: string }[] }[] }
      for (const file of report.files) for (const statement of file.statements) delete statement.text
      return report
    })
    run('check --format github', ['check', 'role.sql', '--format', 'github'])
    run('check --format sarif', ['check', 'role.sql', '--format', 'sarif'])
    run('audit show', ['audit', 'show', '--log', audit, '--all'])
    run('audit show --json', ['audit', 'show', '--log', audit, '--json'])
    run('audit verify', ['audit', 'verify', '--log', audit])
    // The scenarios did run: successes, refusals and failures, not only connection errors.
    const code = (name: string) => codes.find(([n]) => n === name)?.[1]
    expect(code('exec CREATE ROLE')).toBe(0)
    expect(code('exec refused')).toBe(1)
    expect(code('exec failed')).toBe(1)
    expect(code('query ok --json')).toBe(0)
    expect(code('exec wrong password')).not.toBe(0)
    expect(code('audit verify')).toBe(0)
  }, 300_000)
})

describe('the secrets', () => {
  it('appear in no result, error, output or audit file', () => {
    for (const audit of audits) record(`audit file ${audit}`, fileText(audit))
    expect(seen.length).toBeGreaterThan(80)
    expect(leaks()).toEqual([])
  })
})
