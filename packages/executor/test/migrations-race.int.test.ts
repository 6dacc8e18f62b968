import { type MigrationEvent, type MigrationReport, runMigrationsFromDir } from '@ddl/executor/internal'
import { describe, expect, it } from 'vitest'
import { auditRecords, freshDatabase, migrationDir, runOptions, sql, trackingRows } from './migrations-support.js'

/**
 * 20 files. Each inserts its name into `hits`: a file applied twice would leave two rows (or fail on
 * its CREATE TABLE). Small sleeps widen the windows in which two runners overlap. Files 8 and 15 run
 * outside a transaction (CREATE INDEX CONCURRENTLY).
 */
function raceFiles(): Record<string, string> {
  const files: Record<string, string> = {
    '1_hits.sql': "CREATE TABLE hits (name text NOT NULL);\nINSERT INTO hits VALUES ('1');\n",
  }
  for (let i = 2; i <= 20; i++) {
    files[`${i}_step.sql`] =
      i === 8 || i === 15
        ? `CREATE INDEX CONCURRENTLY t${i - 1}_id ON t${i - 1} (id);\n`
        : `CREATE TABLE t${i} (id int);\nSELECT pg_sleep(0.02);\nINSERT INTO hits VALUES ('${i}');\n`
  }
  return files
}

describe('two runners at once', () => {
  for (const round of [1, 2, 3]) {
    it(`apply each of 20 files exactly once between them (round ${round})`, async () => {
      const url = await freshDatabase('race')
      const dir = migrationDir(raceFiles())
      const waits: MigrationEvent[] = []
      const a = runOptions(url, { waitMs: 30_000, onProgress: (e) => e.type === 'waiting' && waits.push(e) })
      const b = runOptions(url, { waitMs: 30_000, onProgress: (e) => e.type === 'waiting' && waits.push(e) })
      const [ra, rb] = await Promise.all([runMigrationsFromDir(dir, a), runMigrationsFromDir(dir, b)])
      const reportA = ra._unsafeUnwrap() as MigrationReport
      const reportB = rb._unsafeUnwrap() as MigrationReport
      const appliedA = reportA.applied.map((m) => m.name)
      const appliedB = reportB.applied.map((m) => m.name)
      // Each file applied by exactly one runner, and the other saw it applied.
      expect(appliedA.filter((n) => appliedB.includes(n))).toEqual([])
      expect(appliedA.length + appliedB.length).toBe(20)
      expect([...reportA.appliedByOthers, ...reportA.alreadyApplied].sort()).toEqual(
        Object.keys(raceFiles())
          .filter((n) => !appliedA.includes(n))
          .sort(),
      )
      const hits = await sql<{ name: string; n: number }>(
        url,
        'SELECT name, count(*)::int AS n FROM hits GROUP BY name',
      )
      expect(hits).toHaveLength(18)
      expect(hits.every((h) => h.n === 1)).toBe(true)
      const rows = await trackingRows(url)
      expect(rows).toHaveLength(20)
      expect(
        rows
          .filter((r) => !r.transactional)
          .map((r) => r.name)
          .sort(),
      ).toEqual(['15_step.sql', '8_step.sql'])
      // In file order, whichever runner applied each.
      expect(rows.map((r) => r.name)).toEqual(Object.keys(raceFiles()))
      expect(await sql(url, 'SELECT * FROM public.ddl_migration_claims')).toEqual([])
      // Each audit log holds a committed outcome only for the files its runner applied.
      for (const [options, applied] of [
        [a, appliedA],
        [b, appliedB],
      ] as const) {
        const committed = new Set(
          auditRecords(options.auditPath)
            .filter((r) => r.outcome === 'committed')
            .map((r) => r.source),
        )
        expect([...committed].sort()).toEqual([...applied].sort())
      }
    })
  }
})
