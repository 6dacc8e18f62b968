import { createHash } from 'node:crypto'
import { PostgresAPI, runMigrationsFromDir, type SafetyError } from '@ddl/executor/internal'
import { afterAll, describe, expect, it } from 'vitest'
import { auditRecords, freshDatabase, migrationDir, runOptions, trackingRows } from './migrations-support.js'

const apis: PostgresAPI[] = []
afterAll(async () => {
  for (const api of apis) await api.close()
})

describe("the tool's own tables", () => {
  it('refuses an INSERT into the tracking table without iKnowWhatImDoing, and migrate still writes it', async () => {
    const url = await freshDatabase('owned')
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_drop.sql': 'DROP TABLE a;\n',
    })
    // Apply the first file only: the second is a pending destructive migration.
    const first = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    ;(await runMigrationsFromDir(first, runOptions(url)))._unsafeUnwrap()
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql'])

    const options = runOptions(url)
    const db = new PostgresAPI(undefined, { url, env: {}, cwd: options.cwd ?? '.', auditPath: options.auditPath })
    apis.push(db)
    const checksum = createHash('sha256').update('DROP TABLE a;\n').digest('hex')
    const forge = `INSERT INTO ddl_migrations (name, checksum, duration_ms, tier, applied_by, transactional) VALUES ('2_drop.sql', '${checksum}', 0, 'safe', 'ada', true)`
    for (const flags of [{}, { confirm: true }]) {
      const refused = (await db.execute(forge, flags))._unsafeUnwrapErr() as SafetyError
      expect(refused.kind).toBe('SafetyError')
      expect(refused.message).toContain('public.ddl_migrations')
    }
    for (const sql of [
      "UPDATE public.ddl_migrations SET applied_by = 'ada' WHERE name = '1_a.sql'",
      "WITH x AS (DELETE FROM ddl_migrations WHERE name = '1_a.sql' RETURNING 1) SELECT count(*) FROM x",
      "DO $$ BEGIN DELETE FROM ddl_migrations WHERE name = '1_a.sql'; END $$",
      'TRUNCATE ddl_migration_claims',
    ]) {
      expect((await db.execute(sql, { confirm: true }))._unsafeUnwrapErr().kind, sql).toBe('SafetyError')
    }
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql'])
    const blocked = auditRecords(options.auditPath).filter((r) => r.outcome === 'blocked')
    expect(blocked.every((r) => r.tier === 'destructive')).toBe(true)

    // The runner's own writes are not gated SQL: the pending file still applies and is recorded.
    const report = (await runMigrationsFromDir(dir, runOptions(url, { iKnowWhatImDoing: true })))._unsafeUnwrap()
    expect(report.applied.map((m) => m.name)).toEqual(['2_drop.sql'])
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql', '2_drop.sql'])

    // A person who means it can still repair the table, with the destructive flag.
    const repaired = await db.execute("DELETE FROM ddl_migrations WHERE name = '2_drop.sql'", {
      iKnowWhatImDoing: true,
    })
    expect(repaired.isOk()).toBe(true)
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql'])
  })
})
