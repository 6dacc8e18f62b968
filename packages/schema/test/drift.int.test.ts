import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runMigrationsFromDir } from '@ddl/executor/internal'
import { createShadowDatabase, detectDrift, type ShadowDatabase } from '@ddl/schema'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'

const db = testDatabase('drift')
let dir: string
let live: ShadowDatabase

const MIGRATIONS: Record<string, string> = {
  '001_users.sql': 'CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);',
  '002_index.sql': 'CREATE INDEX users_email_idx ON users (email);',
  '003_fn.sql': "CREATE FUNCTION greeting() RETURNS text LANGUAGE sql AS 'SELECT ''hello''';",
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drift-test-'))
  for (const [name, sql] of Object.entries(MIGRATIONS)) await writeFile(join(dir, name), sql)
  live = (await createShadowDatabase(db.adminUrl))._unsafeUnwrap()
  const audit = await mkdtemp(join(tmpdir(), 'drift-audit-'))
  const applied = await runMigrationsFromDir(dir, {
    url: live.url,
    cwd: audit,
    env: {},
    readDotEnv: false,
    config: {},
    auditPath: join(audit, 'audit.jsonl'),
  })
  expect(applied.isOk()).toBe(true)
  await rm(audit, { recursive: true, force: true })
})

afterEach(async () => {
  await live.drop()
  await rm(dir, { recursive: true, force: true })
})

const drift = () => detectDrift({ url: live.url, label: 'live' }, dir, { shadowUrl: db.adminUrl })
const onLive = (sql: string) => withClient(live.url, (c) => c.query(sql))

describe('ddl drift', () => {
  it('reports nothing for a database that is what its migrations produce', async () => {
    const report = (await drift())._unsafeUnwrap()
    expect(report.replayed).toEqual(['001_users.sql', '002_index.sql', '003_fn.sql'])
    expect(report.objects).toEqual({ added: [], removed: [], changed: [] })
    expect(report.changedFiles).toEqual([])
    expect(report.repair.statements).toEqual([])
    expect(report.drifted).toBe(false)
  })

  it('reports a column added by hand, and the repair drops it', async () => {
    await onLive('ALTER TABLE users ADD COLUMN phone text')
    const report = (await drift())._unsafeUnwrap()
    expect(report.drifted).toBe(true)
    expect(report.objects.added.map((o) => o.object)).toContain('column public.users.phone')
    expect(report.repair.statements.map((s) => [s.sql, s.tier])).toEqual([
      ['ALTER TABLE "public"."users" DROP COLUMN "phone"', 'cautious'],
    ])
  })

  it('reports an index dropped by hand', async () => {
    await onLive('DROP INDEX users_email_idx')
    const report = (await drift())._unsafeUnwrap()
    expect(report.drifted).toBe(true)
    expect(report.objects.removed.map((o) => o.object)).toEqual(['index public.users_email_idx'])
    expect(report.repair.statements.some((s) => s.sql.includes('CREATE INDEX'))).toBe(true)
  })

  it('reports a function whose body was changed by hand', async () => {
    await onLive("CREATE OR REPLACE FUNCTION greeting() RETURNS text LANGUAGE sql AS 'SELECT ''bye'''")
    const report = (await drift())._unsafeUnwrap()
    expect(report.drifted).toBe(true)
    const changed = report.objects.changed.find((c) => c.object === 'function greeting()')
    expect(changed?.from).toContain("'hello'")
    expect(changed?.to).toContain("'bye'")
  })

  it('reports a tracked file edited after it was applied', async () => {
    await appendFile(join(dir, '002_index.sql'), '\n-- edited later\n')
    const report = (await drift())._unsafeUnwrap()
    expect(report.changedFiles.map((f) => f.name)).toEqual(['002_index.sql'])
    expect(report.drifted).toBe(true)
  })

  it('does not count a file the database has not applied yet as drift', async () => {
    await writeFile(join(dir, '004_later.sql'), 'CREATE TABLE later (id int);')
    const report = (await drift())._unsafeUnwrap()
    expect(report.pending).toEqual(['004_later.sql'])
    expect(report.drifted).toBe(false)
  })
})
