/**
 * Row 3: 1,000 small DDL statements through `PostgresAPI.execute` (classify, gate; BEGIN + SET LOCAL
 * timeouts + the effect baseline while the audit intent is fsynced; the statement; the effect check
 * and COMMIT; the audit outcome, made durable by the next intent's fsync) against the same statements
 * through a bare `pg` client, each in its own transaction (BEGIN, the statement, COMMIT: the issue's
 * reference), and in autocommit (one round trip each) on the same server. Then the parts, each
 * timed alone over the same 1,000 statements: classification, the two audit appends, and the executor's
 * round trips sent by a bare client.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { AuditLog } from '../../packages/audit/dist/index.js'
import { classify, init } from '../../packages/classifier/dist/index.js'
// EffectProbe is internal to the executor: the bench rebuilds the check's round trip with it.
import { EffectProbe } from '../../packages/executor/dist/effect-check.js'
import { PostgresAPI } from '../../packages/executor/dist/index.js'
import { ratioOf, summarize } from '../lib/measure.mjs'

/** 1,000 small DDL statements, all `safe`: CREATE TABLE, ADD COLUMN, CREATE INDEX, COMMENT ON. */
export function smallDdl(count = 1000) {
  const out = []
  for (let i = 0; out.length < count; i++) {
    out.push(`CREATE TABLE bench_t${i} (id integer PRIMARY KEY, name text NOT NULL, created_at timestamptz)`)
    out.push(`ALTER TABLE bench_t${i} ADD COLUMN note text`)
    out.push(`CREATE INDEX bench_t${i}_name_idx ON bench_t${i} (name)`)
    out.push(`COMMENT ON TABLE bench_t${i} IS 'bench table ${i}'`)
  }
  return out.slice(0, count)
}

async function viaExecutor(url, statements, auditPath, durable) {
  const auditLog = AuditLog.open({ path: auditPath, durable, actor: 'bench' })
  // No ddl.config.json, no .env, no environment: only the URL and the audit log given here.
  const cwd = dirname(auditPath)
  const db = new PostgresAPI(undefined, { url, auditLog, config: {}, env: {}, cwd, source: 'bench' })
  try {
    const started = performance.now()
    for (const sql of statements) {
      const r = await db.execute(sql)
      if (r.isErr()) throw new Error(`execute failed on ${sql}: ${r.error.message}`)
    }
    return performance.now() - started
  } finally {
    await db.close()
  }
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** The plain way: one autocommitted query per statement. */
function viaPg(url, statements) {
  return withClient(url, async (client) => {
    const started = performance.now()
    for (const sql of statements) await client.query(sql)
    return performance.now() - started
  })
}

/** The reference: each statement in its own transaction (BEGIN, the statement, COMMIT). */
function viaPgTransaction(url, statements) {
  return withClient(url, async (client) => {
    const started = performance.now()
    for (const sql of statements) {
      await client.query('BEGIN')
      await client.query(sql)
      await client.query('COMMIT')
    }
    return performance.now() - started
  })
}

/**
 * What execute() sends for one statement, learned by watching its pg client on a few statements:
 * the queries in order, the statement itself marked. Steady state (the pool is warm by then).
 */
async function traceExecutor(url, statements, auditPath) {
  // The executor's `pg` (the same module the bench imports, resolved from the executor's package).
  const executorPg = createRequire(new URL('../../packages/executor/package.json', import.meta.url))('pg')
  const proto = executorPg.Client.prototype
  const original = proto.query
  let current
  proto.query = function (config, ...rest) {
    current?.push(config)
    return original.call(this, config, ...rest)
  }
  const sequences = []
  try {
    const auditLog = AuditLog.open({ path: auditPath, durable: false, actor: 'bench' })
    const db = new PostgresAPI(undefined, { url, auditLog, config: {}, env: {}, cwd: dirname(auditPath) })
    for (const sql of statements) {
      current = []
      const r = await db.execute(sql)
      if (r.isErr()) throw new Error(r.error.message)
      sequences.push(
        current.map((q) => {
          const text = typeof q === 'string' ? q : q.text
          return text === sql ? { statement: true, config: q } : { statement: false, config: q }
        }),
      )
      current = undefined
    }
    await db.close()
  } finally {
    proto.query = original
  }
  const last = sequences[sequences.length - 1]
  // The effect check's savepoint has a random name per run: not a difference in the round trips.
  const key = (seq) =>
    JSON.stringify(seq.map((q) => (q.statement ? '<statement>' : q.config))).replace(/ddl_effect_check_[0-9a-f]+/g, '')
  const steady = sequences.slice(2).every((seq) => key(seq) === key(last))
  return { sequence: last, steady }
}

/**
 * The executor's round trips (as traced), sent by a bare client: no classification, no audit. The
 * effect check's message holds the baseline of the traced database, so it is built again here from
 * this run's baseline (taken by the traced opening round trip), as execute() builds it.
 */
function viaPgLikeExecutor(url, statements, sequence) {
  const snapshot = new EffectProbe().snapshotSql
  return withClient(url, async (client) => {
    const started = performance.now()
    for (const sql of statements) {
      let probe
      for (const q of sequence) {
        const text = typeof q.config === 'string' ? q.config : q.config.text
        if (q.statement) await client.query(typeof q.config === 'string' ? sql : { ...q.config, text: sql })
        else if (probe !== undefined && text.startsWith('SAVEPOINT ddl_effect_check_')) {
          const done = await probe.measureAndCommit({ client })
          if (done.kind !== 'committed') throw new Error(`the effect check did not commit: ${done.kind}`)
        } else {
          const results = await client.query(q.config)
          if (text.endsWith(snapshot)) {
            probe = new EffectProbe()
            probe.begun(results.at(-2).rows, results.at(-1).rows)
          }
        }
      }
    }
    return performance.now() - started
  })
}

/** classify() of each statement alone, as execute() does. */
async function classification(statements) {
  await init()
  const started = performance.now()
  for (const sql of statements) {
    const r = classify(sql)
    if (r.isErr()) throw new Error(r.error.message)
  }
  return performance.now() - started
}

/** One intent and one outcome append per statement, as execute() writes them (the intent fsynced when durable). */
async function auditAppends(statements, path, durable) {
  const log = AuditLog.open({ path, durable, actor: 'bench' })
  const flags = { confirm: false, iKnowWhatImDoing: false, dryRun: false, rehearse: false }
  const started = performance.now()
  for (const statement of statements) {
    const runId = randomUUID()
    const entry = { project: 'default', tier: 'safe', statement, flags, runId, source: 'bench' }
    const a = await log.append({ ...entry, outcome: 'intent' })
    if (a.isErr()) throw new Error(a.error.message)
    const b = await log.append(
      { ...entry, outcome: 'committed', rowsAffected: 0, durationMs: 1 },
      { flush: 'with-next' }, // as execute() writes it: durable with the next intent's fsync
    )
    if (b.isErr()) throw new Error(b.error.message)
  }
  return performance.now() - started
}

export async function executorRow({ server, runs, count = 1000 }) {
  const statements = smallDdl(count)
  const scratch = mkdtempSync(join(tmpdir(), 'safe-ddl-bench-audit-'))
  const kinds = ['executor', 'pg', 'pgTx', 'executorNoFsync', 'pgLikeExecutor']
  const times = Object.fromEntries(kinds.map((k) => [k, []]))
  const parts = { classify: [], audit: [], auditNoFsync: [] }
  let n = 0
  let trace
  try {
    await server.createDatabase('bench_exec_trace')
    trace = await traceExecutor(server.url('bench_exec_trace'), statements.slice(0, 12), join(scratch, 'trace.jsonl'))
    await server.dropDatabase('bench_exec_trace')
    // Warm-up: one round of each, not counted (JIT, pool, first audit file creation).
    for (let i = -1; i < runs; i++) {
      const order = i % 2 === 0 ? kinds : [...kinds].reverse()
      for (const kind of order) {
        const db = `bench_exec_${n++}`
        await server.createDatabase(db)
        const url = server.url(db)
        const audit = join(scratch, `${kind}-${n}.jsonl`)
        let ms
        if (kind === 'executor') ms = await viaExecutor(url, statements, audit, true)
        else if (kind === 'executorNoFsync') ms = await viaExecutor(url, statements, audit, false)
        else if (kind === 'pg') ms = await viaPg(url, statements)
        else if (kind === 'pgTx') ms = await viaPgTransaction(url, statements)
        else ms = await viaPgLikeExecutor(url, statements, trace.sequence)
        await server.dropDatabase(db)
        if (i >= 0) times[kind].push(ms)
      }
      const c = await classification(statements)
      const a = await auditAppends(statements, join(scratch, `parts-${n}.jsonl`), true)
      const b = await auditAppends(statements, join(scratch, `parts-nofsync-${n}.jsonl`), false)
      if (i >= 0) {
        parts.classify.push(c)
        parts.audit.push(a)
        parts.auditNoFsync.push(b)
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  const perStatement = (list) => {
    const s = summarize(list)
    return { ...s, perStatementMs: s.median / count }
  }
  return {
    statements: count,
    executor: perStatement(times.executor),
    pg: perStatement(times.pg),
    // The reference: pg running each statement in a transaction (BEGIN, statement, COMMIT).
    ratio: ratioOf(times.executor, times.pgTx),
    target: 1.5,
    ratioAutocommit: ratioOf(times.executor, times.pg),
    pgTransaction: { ...perStatement(times.pgTx), ratio: ratioOf(times.executor, times.pgTx) },
    roundTripsPerStatement: trace.sequence.map((q) =>
      q.statement ? '<statement>' : (typeof q.config === 'string' ? q.config : q.config.text).slice(0, 40),
    ),
    roundTripsSteady: trace.steady,
    parts: {
      classify: perStatement(parts.classify),
      auditIntentAndOutcome: perStatement(parts.audit),
      auditIntentAndOutcomeNoFsync: perStatement(parts.auditNoFsync),
      pgLikeExecutorRoundTrips: perStatement(times.pgLikeExecutor),
      executorWithAuditFsyncOff: perStatement(times.executorNoFsync),
      ratioWithAuditFsyncOff: ratioOf(times.executorNoFsync, times.pgTx),
    },
  }
}
