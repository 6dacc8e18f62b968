/**
 * Row 5: the cost of undo. A 1,000,000-row table (id int PRIMARY KEY, n int, payload text of 40
 * characters, plus an index on n), then through `PostgresAPI.execute`:
 *   - DROP TABLE: with undo (the table is moved into ddl_undo) vs `noUndo: true` (really dropped);
 *   - DELETE of 10% of the rows (every 10th id): with undo (the old rows copied into ddl_undo by a
 *     transition-table trigger) vs `noUndo: true`.
 * Time is the whole execute() call (classify, gate, audit intent and outcome, the transaction).
 * Extra space is what the kept copy holds after COMMIT (`size_bytes` in the undo catalog: for a
 * dropped table its whole size, which the drop would otherwise have freed). Runs are interleaved.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { AuditLog } from '../../packages/audit/dist/index.js'
import { PostgresAPI } from '../../packages/executor/dist/index.js'
import { ratioOf, summarize } from '../lib/measure.mjs'

const ROWS = 1_000_000

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function freshTable(url) {
  await withClient(url, async (c) => {
    await c.query('DROP SCHEMA IF EXISTS ddl_undo CASCADE; DROP TABLE IF EXISTS big')
    await c.query(
      `CREATE TABLE big (id int PRIMARY KEY, n int NOT NULL, payload text NOT NULL);
       INSERT INTO big SELECT g, g % 1000, md5(g::text) || 'abcdefgh' FROM generate_series(1, ${ROWS}) g;
       CREATE INDEX big_n_idx ON big (n);`,
    )
    await c.query('VACUUM ANALYZE big')
    await c.query('CHECKPOINT')
  })
}

async function timed(url, scratch, sql, options) {
  const auditLog = AuditLog.open({ path: join(scratch, 'audit.jsonl'), actor: 'bench' })
  const db = new PostgresAPI(undefined, { url, auditLog, config: {}, env: {}, cwd: scratch, source: 'bench' })
  try {
    const started = performance.now()
    const r = await db.execute(sql, options)
    const ms = performance.now() - started
    if (r.isErr()) throw new Error(`${sql}: ${r.error.message}`)
    return { ms, keptBytes: r.value.undo?.sizeBytes ?? 0 }
  } finally {
    await db.close()
  }
}

export async function undoRow({ server, runs }) {
  const scratch = mkdtempSync(join(tmpdir(), 'safe-ddl-bench-undo-'))
  const db = 'bench_undo'
  await server.createDatabase(db)
  const url = server.url(db)
  const tableBytes = []
  const cases = {
    dropKeep: { sql: 'DROP TABLE big', options: { iKnowWhatImDoing: true } },
    dropNoUndo: { sql: 'DROP TABLE big', options: { iKnowWhatImDoing: true, noUndo: true } },
    deleteKeep: { sql: 'DELETE FROM big WHERE id % 10 = 0', options: { confirm: true } },
    deleteNoUndo: { sql: 'DELETE FROM big WHERE id % 10 = 0', options: { confirm: true, noUndo: true } },
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  const kept = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  try {
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? Object.keys(cases) : Object.keys(cases).reverse()
      for (const key of order) {
        await freshTable(url)
        if (key === 'dropKeep') {
          const size = await withClient(url, (c) => c.query("SELECT pg_total_relation_size('big')::int8 AS b"))
          tableBytes.push(Number(size.rows[0].b))
        }
        const r = await timed(url, scratch, cases[key].sql, cases[key].options)
        times[key].push(r.ms)
        kept[key].push(r.keptBytes)
      }
    }
  } finally {
    await server.dropDatabase?.(db)
    rmSync(scratch, { recursive: true, force: true })
  }
  const out = { rows: ROWS, tableBytes: summarize(tableBytes) }
  for (const key of Object.keys(cases)) out[key] = { ...summarize(times[key]), keptBytes: summarize(kept[key]) }
  out.dropRatio = ratioOf(times.dropKeep, times.dropNoUndo)
  out.deleteRatio = ratioOf(times.deleteKeep, times.deleteNoUndo)
  return out
}
