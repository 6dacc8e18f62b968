import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuditLog, redactSecrets } from '@ddl/audit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { entry, tempDirs } from './helpers.js'

const tempDir = tempDirs()

describe('redactSecrets', () => {
  it.each([
    ["CREATE ROLE x PASSWORD 'hunter2-secret'", "CREATE ROLE x PASSWORD '***'"],
    ["create user x with login password 'hunter2'", "create user x with login password '***'"],
    ["ALTER ROLE x WITH ENCRYPTED PASSWORD E'a\\'b c'", "ALTER ROLE x WITH ENCRYPTED PASSWORD '***'"],
    ["ALTER USER x PASSWORD U&'d\\0061t'", "ALTER USER x PASSWORD '***'"],
    ['CREATE ROLE x PASSWORD $$hunter2$$ LOGIN', "CREATE ROLE x PASSWORD '***' LOGIN"],
    ['CREATE ROLE x PASSWORD $pw$a$b$pw$', "CREATE ROLE x PASSWORD '***'"],
    [
      "ALTER ROLE x PASSWORD /* why */ 'abc'\n  'def' VALID UNTIL 'infinity'",
      "ALTER ROLE x PASSWORD /* why */ '***'\n  '***' VALID UNTIL 'infinity'",
    ],
    [
      "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'hunter2')",
      "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password '***')",
    ],
    [
      "DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''hunter2'''; END $$",
      "DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''***'''; END $$",
    ],
    ["CREATE ROLE x PASSWORD 'unterminated", "CREATE ROLE x PASSWORD '***'"],
  ])('redacts the password literal of %j', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected)
  })

  it.each([
    ['postgres://app:hunter2@db.example.com:5432/app', 'postgres://app:***@db.example.com:5432/app'],
    [
      "SELECT dblink_connect('postgresql://app:hun@ter2@db/app')",
      "SELECT dblink_connect('postgresql://app:***@db/app')",
    ],
    ['connect to postgres://:hunter2@db failed', 'connect to postgres://:***@db failed'],
    ["CONNECTION 'host=db password=hunter2 dbname=app'", "CONNECTION 'host=db password=*** dbname=app'"],
    ["CONNECTION 'host=db password=''hun ter2'' dbname=app'", "CONNECTION 'host=db password=''***'' dbname=app'"],
    ["password = 'hunter2'", "password = '***'"],
    ['PGPASSWORD=hunter2 psql', 'PGPASSWORD=*** psql'],
    ['postgres://db/app?sslmode=require&password=hunter2', 'postgres://db/app?sslmode=require&password=***'],
    ["SELECT dblink('postgres://app:it''s@db/app')", "SELECT dblink('postgres://app:***@db/app')"],
    [
      `INSERT INTO cfg VALUES ('{"api_key": "hunter2", "db_password": "x"}')`,
      `INSERT INTO cfg VALUES ('{"api_key": "***", "db_password": "***"}')`,
    ],
  ])('redacts the secret of a connection string in %j', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected)
  })

  it.each([
    'CREATE TABLE users (id uuid PRIMARY KEY, password_hash text)',
    'ALTER ROLE x PASSWORD NULL',
    "SET password_encryption = 'scram-sha-256'",
    "SELECT 'password', 'hunter2' FROM t",
    'postgres://app@db/app',
    'postgres://db:5432/app?application_name=a@b',
    "COMMENT ON COLUMN users.email IS 'it''s the login'",
    'password authentication failed for user "app"',
  ])('leaves %j as it is', (input) => {
    expect(redactSecrets(input)).toBe(input)
  })

  it('replaces every string literal with literals: true, and keeps names and numbers', () => {
    expect(
      redactSecrets(
        `INSERT INTO "Users" (email, note, body) VALUES ('a@b.c', E'it\\'s', $$x$$), (B'101', N'n', 42) -- 'c'`,
        {
          literals: true,
        },
      ),
    ).toBe(`INSERT INTO "Users" (email, note, body) VALUES ('***', '***', '***'), ('***', '***', 42) -- 'c'`)
  })

  const secret = fc.stringMatching(/^[A-Za-z0-9!#%&*+,.:;<=>?@^_~ '-]{1,16}$/).map((s) => `s3cr3t-${s}`)
  const sqlQuoted = (s: string): string => `'${s.replace(/'/g, "''")}'`
  const templates: ReadonlyArray<(s: string) => string> = [
    (s) => `CREATE ROLE app WITH LOGIN PASSWORD ${sqlQuoted(s)} VALID UNTIL 'infinity'`,
    (s) => `alter user app password ${sqlQuoted(s)}`,
    (s) => `ALTER ROLE app ENCRYPTED PASSWORD E'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
    (s) => `CREATE ROLE app PASSWORD $q$${s}$q$`,
    (s) => `CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'app', password ${sqlQuoted(s)})`,
    (s) => `postgres://app:${encodeURIComponent(s)}@db:5432/app`,
  ]

  it('never lets a generated password through, in any template', () => {
    fc.assert(
      fc.property(secret, fc.constantFrom(...templates), fc.boolean(), (password, template, literals) => {
        expect(redactSecrets(template(password), { literals })).not.toContain(password)
      }),
      { numRuns: 500 },
    )
  })

  /** Pieces that make quotes, comments, keywords and connection strings meet in odd ways. */
  const fragment = fc.constantFrom(
    ...[
      "'",
      "''",
      '"',
      '$$',
      '$a$',
      "E'",
      'U&',
      '\\',
      ' ',
      '\n',
      '=',
      '=>',
      ':=',
      '--',
      '/*',
      '*/',
      'x',
      '@',
      '/',
      ':',
    ],
    ...['password', 'PASSWORD', 'pwd=', 'postgres://', '"password":', 'EXECUTE '],
  )
  const messy = fc.array(fragment, { maxLength: 24 }).map((pieces) => pieces.join(''))

  it('changes no text that names no password, secret, token, key or URI credentials', () => {
    const plain = fc
      .oneof(fc.string(), messy)
      .filter((text) => !/password|passwd|pwd|secret|token|api_?key|:\/\//i.test(text))
    fc.assert(
      fc.property(plain, (text) => {
        expect(redactSecrets(text)).toBe(text)
      }),
      { numRuns: 2000 },
    )
  })

  it('gives the same text when applied twice', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), messy, secret.map(templates[0] as (s: string) => string)),
        fc.boolean(),
        (text, literals) => {
          const once = redactSecrets(text, { literals })
          expect(redactSecrets(once, { literals })).toBe(once)
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('redaction in the audit log', () => {
  it("writes no trace of the password given in CREATE ROLE ... PASSWORD '...'", async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'audit.jsonl') })
    const statement = "CREATE ROLE x PASSWORD 'hunter2-secret'"
    await log.append([
      entry({ statement, outcome: 'intent', runId: 'r' }),
      entry({ statement, outcome: 'failed', runId: 'r', sqlstate: '42710', error: `role "x" exists: ${statement}` }),
    ])
    const file = await readFile(log.path, 'utf8')
    expect(file).not.toContain('hunter2')
    expect(file).toContain("CREATE ROLE x PASSWORD '***'")
  })
})
