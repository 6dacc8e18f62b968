/**
 * The round trip over a real migration history kept outside the repository. Skipped unless
 * DDL_DIFF_CORPUS names a migrations directory (e.g. lemmy's `migrations/`, Diesel layout).
 * DDL_DIFF_SAMPLE (default 20) is how many steps N -> N+1 are tried, spread evenly over the history.
 * Prints one line per step and the pass rate; docs/diff.md reports the figures.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findMigrations, runMigration } from '@ddl/executor/internal'
import { createShadowDatabase } from '@ddl/schema'
import { describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { passed, roundTrip, type StepResult } from './round-trip.js'

const corpus = process.env.DDL_DIFF_CORPUS
const sample = Number(process.env.DDL_DIFF_SAMPLE ?? '20')
const db = testDatabase('corpus')

function summary(r: StepResult): string {
  if (r.failed !== undefined) return `apply failed: ${r.failed.message} in ${r.failed.sql.slice(0, 120)}`
  const { added, removed, changed } = r.remaining
  return [
    ...added.map((l) => `missing ${l.object}`),
    ...removed.map((l) => `extra ${l.object}`),
    ...changed.map((c) => `differs ${c.object}`),
  ]
    .slice(0, 5)
    .join('; ')
}

describe.skipIf(corpus === undefined || corpus === '')('diff round trip over a real history', () => {
  it('turns sampled states N into N+1 and back', async () => {
    const source = (await findMigrations(corpus ?? ''))._unsafeUnwrap()
    const total = source.entries.length
    const steps = new Set<number>()
    for (let i = 0; i < sample; i++) steps.add(Math.min(total - 1, Math.floor(((i + 0.5) * total) / sample)))
    const progress = (await createShadowDatabase(db.adminUrl))._unsafeUnwrap()
    const name = new URL(progress.url).pathname.slice(1)
    // Diesel creates its own tracking table before the first migration; some histories use it (lemmy's
    // forbid_diesel_cli trigger), so a replay starts where Diesel would.
    if (source.layout === 'diesel') {
      await withClient(progress.url, (c) =>
        c.query(
          'CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY NOT NULL, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)',
        ),
      )
    }
    const options = {
      url: progress.url,
      env: {},
      readDotEnv: false,
      config: {},
      auditPath: join(mkdtempSync(join(tmpdir(), 'corpus-audit-')), 'audit.jsonl'),
      confirm: true,
      iKnowWhatImDoing: true,
    }
    const snapshot = async (label: string) => {
      const snap = `${name}_${label}`
      await withClient(db.adminUrl, (c) => c.query(`CREATE DATABASE ${snap} TEMPLATE ${name}`))
      const url = new URL(progress.url)
      url.pathname = `/${snap}`
      return {
        url: url.toString(),
        drop: () => withClient(db.adminUrl, (c) => c.query(`DROP DATABASE ${snap} WITH (FORCE)`)),
      }
    }
    let ok = 0
    let tried = 0
    const lines: string[] = []
    for (let n = 0; n < total; n++) {
      if (steps.has(n)) {
        const before = await snapshot(`s${n}`)
        const applied = await runMigration(source.entries[n]?.path ?? '', options)
        if (applied.isErr()) {
          lines.push(`${n + 1} ${source.entries[n]?.name}: the migration itself failed: ${applied.error.message}`)
          await before.drop()
          break
        }
        const after = await snapshot(`s${n + 1}`)
        const forward = await roundTrip(db.adminUrl, before.url, after.url)
        const backward = await roundTrip(db.adminUrl, after.url, before.url)
        tried += 2
        const f = passed(forward)
        const b = passed(backward)
        ok += (f ? 1 : 0) + (b ? 1 : 0)
        lines.push(
          `${n}->${n + 1} ${source.entries[n]?.name}: forward ${f ? 'ok' : summary(forward)}; back ${b ? 'ok' : summary(backward)}`,
        )
        await before.drop()
        await after.drop()
      } else {
        const applied = await runMigration(source.entries[n]?.path ?? '', options)
        if (applied.isErr()) {
          lines.push(`${n + 1} ${source.entries[n]?.name}: the migration itself failed: ${applied.error.message}`)
          break
        }
      }
    }
    await progress.drop()
    process.stdout.write(`${lines.join('\n')}\n${ok}/${tried} directions round-trip (${total} migrations)\n`)
    expect(tried).toBeGreaterThan(0)
  }, 3_600_000)
})
