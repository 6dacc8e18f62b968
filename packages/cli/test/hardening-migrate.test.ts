/**
 * Faults around a real `ddl migrate` process (issue 11), on the suite's embedded Postgres: Ctrl-C
 * (SIGINT) during a slow statement, SIGTERM while a statement waits for a lock another connection
 * holds, SIGINT while waiting for another runner, SIGKILL, the connection killed mid-file, and two
 * processes racing over 50 files. Each asserts the exit code, the message, what the database keeps,
 * the tracking table, the audit log, and that a rerun succeeds. Nothing here asserts a duration.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AuditRecord } from '@ddl/audit'
import { RUNNER_LOCK_KEY } from '@ddl/executor/internal'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { folder, freshDatabase, sql } from './migrate-support.js'

const bin = fileURLToPath(new URL('../bin/ddl.js', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)))

interface Run {
  readonly child: ChildProcess
  /** Output so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves when the process has exited. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/** Runs `node bin/ddl.js ...args` with the database in DDL_DATABASE_URL and its audit log in `audit`. */
function ddl(args: readonly string[], url: string, audit: string): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, DDL_DATABASE_URL: url, DDL_AUDIT_LOG: audit, NO_COLOR: '1' }
  delete env.DATABASE_URL
  delete env.DDL_PROJECT
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'ddl-hardening-cwd-')),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

/** Polls `check` every 100 ms until it holds; fails after `seconds`. */
async function until(what: string, check: () => Promise<boolean> | boolean, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting until ${what}`)
}

/** True while a backend of this database runs a statement starting with `prefix`. */
async function running(url: string, prefix: string, waitingOnLock = false): Promise<boolean> {
  const rows = await sql<{ n: number }>(
    url,
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
       AND left(query, ${prefix.length}) = '${prefix.replaceAll("'", "''")}'
       ${waitingOnLock ? "AND wait_event_type = 'Lock'" : ''}`,
  )
  return (rows[0]?.n ?? 0) > 0
}

function auditOf(path: string): AuditRecord[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditRecord)
}

/** Intents whose run has no outcome record. */
function unanswered(records: readonly AuditRecord[]): AuditRecord[] {
  const answered = new Set(records.filter((r) => r.outcome !== 'intent').map((r) => r.runId))
  return records.filter((r) => r.outcome === 'intent' && !answered.has(r.runId))
}

async function tracked(url: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(url, 'SELECT name FROM public.ddl_migrations ORDER BY applied_at, name')
  return rows.map((r) => r.name)
}

async function tableExists(url: string, name: string): Promise<boolean> {
  const rows = await sql<{ t: string | null }>(url, `SELECT to_regclass('public.${name}')::text AS t`)
  return rows[0]?.t !== null && rows[0]?.t !== undefined
}

function auditPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'ddl-hardening-audit-')), 'audit.jsonl')
}

/** `ddl migrate status DIR --json`: the counts, and the exit code. */
async function status(url: string, dir: string): Promise<{ code: number | null; counts: Record<string, number> }> {
  const r = await ddl(['migrate', 'status', dir, '--json'], url, auditPath()).done
  const parsed = JSON.parse(r.stdout) as { result: { counts: Record<string, number> } }
  return { code: r.code, counts: parsed.result.counts }
}

/** A file that sleeps while `pause` holds a row: slow the first time, instant after `DELETE FROM pause`. */
const SLOW =
  'CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\nSELECT pg_sleep(60) FROM pause;\nCREATE TABLE b2 (id int);\n'

describe('ddl migrate as a process, under faults', () => {
  it('is built (pnpm build; pnpm test builds first)', () => {
    expect(built, 'packages/cli/dist/main.js is missing: run pnpm build').toBe(true)
  })

  it('on SIGINT during a slow statement: cancels it, rolls the file back, audits it failed, exits 130; a rerun finishes', async () => {
    const url = await freshDatabase()
    await sql(url, 'CREATE TABLE pause (x int); INSERT INTO pause VALUES (1)')
    const dir = folder({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_slow.sql': SLOW,
      '3_c.sql': 'CREATE TABLE c (id int);\n',
    })
    const audit = auditPath()
    const run = ddl(['migrate', dir], url, audit)
    await until('the slow statement runs', () => running(url, 'SELECT pg_sleep(60)'))
    run.child.kill('SIGINT')
    const r = await run.done

    expect(r.code).toBe(130)
    expect(r.stdout).toMatch(/applied {2}1_a\.sql/)
    expect(r.stderr).toContain('ddl migrate: SIGINT: cancelling the running statement and rolling its file back')
    expect(r.stderr).toContain(
      'Interrupted while migration 2_slow.sql was running: its running statement was cancelled.',
    )
    expect(r.stderr).toContain('Migration 2_slow.sql failed at line 3 (SQLSTATE 57014).')
    expect(r.stderr).toContain('canceling statement due to user request')
    expect(r.stderr).toContain('The statement was cancelled on request')
    expect(r.stderr).not.toContain('statement_timeout')
    expect(r.stderr).toContain('Nothing of 2_slow.sql was applied')
    expect(r.stderr).toContain('Not run: 1 later migration (3_c.sql).')
    expect(r.stderr).toContain('1 migration applied by this run stays applied (1_a.sql).')

    // The database: 1_a applied and tracked; nothing of 2_slow; the sleep no longer runs on the server.
    expect(await tracked(url)).toEqual(['1_a.sql'])
    expect(await tableExists(url, 'a')).toBe(true)
    expect(await tableExists(url, 'b')).toBe(false)
    await until('the cancelled statement is gone', async () => !(await running(url, 'SELECT pg_sleep(60)')), 10)

    // The audit log: every intent answered; 2_slow's statements failed or rolled back, none committed.
    const records = auditOf(audit)
    expect(unanswered(records)).toEqual([])
    const slow = records.filter((x) => x.source === '2_slow.sql' && x.outcome !== 'intent')
    expect(slow.map((x) => [x.statement, x.outcome])).toEqual([
      ['CREATE TABLE b (id int)', 'rolled_back'],
      ['INSERT INTO b VALUES (1)', 'rolled_back'],
      ['SELECT pg_sleep(60) FROM pause', 'failed'],
      ['CREATE TABLE b2 (id int)', 'rolled_back'],
    ])
    expect(slow[2]?.sqlstate).toBe('57014')
    expect(slow[2]?.error).toContain('Interrupted while migration 2_slow.sql was running')
    expect(records.some((x) => x.source === '3_c.sql')).toBe(false)
    const verified = await ddl(['audit', 'verify', '--log', audit], url, audit).done
    expect(verified.code).toBe(0)
    const shown = await ddl(['audit', 'show', '--log', audit], url, audit).done
    expect(shown.stdout).not.toContain('| INTENT')
    expect(shown.stdout).toContain('SELECT pg_sleep(60) FROM pause | FAILED | sqlstate=57014')

    expect(await status(url, dir)).toEqual({
      code: 0,
      counts: { applied: 1, pending: 2, changed: 0, missing: 0, claimed: 0 },
    })
    await sql(url, 'DELETE FROM pause')
    const rerun = await ddl(['migrate', dir], url, audit).done
    expect(rerun.code).toBe(0)
    expect(await tracked(url)).toEqual(['1_a.sql', '2_slow.sql', '3_c.sql'])
    expect(await sql(url, 'SELECT id FROM b')).toEqual([{ id: 1 }])
  }, 180_000)

  it('on SIGTERM while a statement waits for a lock another connection holds: cancels, rolls back, exits 143', async () => {
    const url = await freshDatabase()
    await sql(url, 'CREATE TABLE held (id int); INSERT INTO held VALUES (1), (2)')
    const dir = folder({ '1_note.sql': 'ALTER TABLE held ADD COLUMN note text;\nCREATE TABLE after_note (id int);\n' })
    const audit = auditPath()
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT count(*) FROM held')
      const run = ddl(['migrate', dir, '--lock-timeout', '10m'], url, audit)
      await until('the ALTER waits for the lock', () => running(url, 'ALTER TABLE held', true))
      run.child.kill('SIGTERM')
      const r = await run.done
      expect(r.code).toBe(143)
      expect(r.stderr).toContain('ddl migrate: SIGTERM: cancelling the running statement')
      expect(r.stderr).toContain('Interrupted while migration 1_note.sql was running')
      expect(r.stderr).toContain('Migration 1_note.sql failed at line 1 (SQLSTATE 57014).')
      // The other connection's transaction is untouched, and still holds its lock.
      expect((await holder.query('SELECT count(*)::int AS n FROM held')).rows).toEqual([{ n: 2 }])
    } finally {
      await holder.query('COMMIT').catch(() => undefined)
      await holder.end()
    }
    expect(await tracked(url)).toEqual([])
    expect(
      await sql(url, "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'held'"),
    ).toEqual([{ n: 1 }])
    const records = auditOf(audit)
    expect(unanswered(records)).toEqual([])
    expect(records.filter((x) => x.outcome !== 'intent').map((x) => x.outcome)).toEqual(['failed', 'rolled_back'])
    const rerun = await ddl(['migrate', dir], url, audit).done
    expect(rerun.code).toBe(0)
    expect(await tracked(url)).toEqual(['1_note.sql'])
    expect(await tableExists(url, 'after_note')).toBe(true)
  }, 180_000)

  for (const tracking of [false, true]) {
    const where = tracking ? 'before a file' : 'before creating the tracking table'
    it(`on SIGINT while waiting for another runner ${where}: stops waiting, runs nothing, exits 130`, async () => {
      const url = await freshDatabase()
      const dir = folder({ '0_init.sql': 'CREATE TABLE init (id int);\n' })
      const audit = auditPath()
      if (tracking) expect((await ddl(['migrate', dir], url, audit).done).code).toBe(0)
      writeFileSync(join(dir, '1_a.sql'), 'CREATE TABLE a (id int);\n')
      const other = new pg.Client({ connectionString: url })
      await other.connect()
      try {
        await other.query('BEGIN')
        await other.query({ text: 'SELECT pg_advisory_xact_lock($1::bigint)', values: [RUNNER_LOCK_KEY] })
        const run = ddl(['migrate', dir], url, audit)
        await until('the runner waits for the lock', () =>
          run.stderr().includes('ddl migrate: waiting: another runner'),
        )
        run.child.kill('SIGINT')
        const r = await run.done
        expect(r.code).toBe(130)
        if (tracking) {
          expect(r.stderr).toContain('Interrupted while migration 1_a.sql was running')
          expect(r.stderr).toContain('Migration 1_a.sql could not start (SQLSTATE 57014).')
        } else {
          expect(r.stderr).toContain('Interrupted before migration 0_init.sql started: nothing of it was run.')
          expect(r.stderr).toContain('Not run: 1 later migration (1_a.sql).')
        }
      } finally {
        await other.query('COMMIT').catch(() => undefined)
        await other.end()
      }
      expect(await tableExists(url, 'a')).toBe(false)
      const records = auditOf(audit)
      expect(unanswered(records)).toEqual([])
      expect(records.filter((x) => x.source === '1_a.sql' && x.outcome !== 'intent').map((x) => x.outcome)).toEqual(
        tracking ? ['failed'] : [],
      )
      const rerun = await ddl(['migrate', dir], url, audit).done
      expect(rerun.code).toBe(0)
      expect(await tracked(url)).toEqual(['0_init.sql', '1_a.sql'])
    }, 180_000)
  }

  it('on SIGKILL mid-file: keeps nothing of the file, leaves its intents unanswered in the audit, and a rerun waits, then applies it', async () => {
    const url = await freshDatabase()
    await sql(url, 'CREATE TABLE pause (x int); INSERT INTO pause VALUES (1)')
    const dir = folder({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_slow.sql': 'CREATE TABLE b (id int);\nSELECT pg_sleep(3) FROM pause;\n',
    })
    const audit = auditPath()
    const run = ddl(['migrate', dir], url, audit)
    await until('the slow statement runs', () => running(url, 'SELECT pg_sleep(3)'))
    run.child.kill('SIGKILL')
    const r = await run.done
    expect(r.signal).toBe('SIGKILL')
    // A killed process writes nothing more: its file's intents stay unanswered, and `ddl audit show`
    // lists them as INTENT (their fate unknown to the log). The server rolls the file back when its
    // backend notices the closed connection: after the running statement, here.
    const records = auditOf(audit)
    expect(unanswered(records).map((x) => x.statement)).toEqual([
      'CREATE TABLE b (id int)',
      'SELECT pg_sleep(3) FROM pause',
    ])
    const shown = await ddl(['audit', 'show', '--log', audit], url, audit).done
    expect(shown.stdout).toContain('CREATE TABLE b (id int) | INTENT')
    await sql(url, 'DELETE FROM pause')
    const rerun = await ddl(['migrate', dir], url, audit).done
    expect(rerun.code).toBe(0)
    expect(await tracked(url)).toEqual(['1_a.sql', '2_slow.sql'])
    expect(await tableExists(url, 'b')).toBe(true)
  }, 180_000)

  it('on SIGINT during CREATE INDEX CONCURRENTLY: exits 130, leaves an INVALID index and no claim, says how to clean up', async () => {
    const url = await freshDatabase()
    await sql(url, 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)')
    const dir = folder({ '1_index.sql': 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n' })
    const audit = auditPath()
    // An open snapshot on another connection makes the build wait for it.
    const reader = new pg.Client({ connectionString: url })
    await reader.connect()
    try {
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      await reader.query('SELECT count(*) FROM t')
      const run = ddl(['migrate', dir], url, audit)
      await until('the index build waits', () => running(url, 'CREATE INDEX CONCURRENTLY', true))
      run.child.kill('SIGINT')
      const r = await run.done
      expect(r.code).toBe(130)
      expect(r.stderr).toContain('Interrupted while migration 1_index.sql was running')
      expect(r.stderr).toContain('1_index.sql runs outside a transaction')
      expect(r.stderr).toContain('SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid')
    } finally {
      await reader.query('ROLLBACK').catch(() => undefined)
      await reader.end()
    }
    // What it leaves: an INVALID index (Postgres keeps it after a cancelled concurrent build), no
    // tracking row, no claim; the audit says the statement failed.
    expect(await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass")).toEqual([
      { indisvalid: false },
    ])
    expect(await tracked(url)).toEqual([])
    expect(await sql(url, 'SELECT * FROM public.ddl_migration_claims')).toEqual([])
    const records = auditOf(audit)
    expect(unanswered(records)).toEqual([])
    expect(records.filter((x) => x.outcome !== 'intent').map((x) => [x.outcome, x.sqlstate])).toEqual([
      ['failed', '57014'],
    ])
    // As the message says: drop the invalid index, then run again.
    await sql(url, 'DROP INDEX CONCURRENTLY t_id')
    const rerun = await ddl(['migrate', dir], url, audit).done
    expect(rerun.code).toBe(0)
    expect(await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass")).toEqual([
      { indisvalid: true },
    ])
  }, 180_000)

  it('when the server kills its connection mid-file: exits 1, keeps nothing of the file, audits it failed; a rerun finishes', async () => {
    const url = await freshDatabase()
    await sql(url, 'CREATE TABLE pause (x int); INSERT INTO pause VALUES (1)')
    const dir = folder({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_slow.sql': SLOW,
      '3_c.sql': 'CREATE TABLE c (id int);\n',
    })
    const audit = auditPath()
    const run = ddl(['migrate', dir], url, audit)
    await until('the slow statement runs', () => running(url, 'SELECT pg_sleep(60)'))
    await sql(
      url,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND left(query, 18) = 'SELECT pg_sleep(60'`,
    )
    const r = await run.done
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      'The connection was lost: the server rolls back the open transaction, so nothing of 2_slow.sql stays',
    )
    expect(await tracked(url)).toEqual(['1_a.sql'])
    expect(await tableExists(url, 'b')).toBe(false)
    const records = auditOf(audit)
    expect(unanswered(records)).toEqual([])
    expect(records.filter((x) => x.source === '2_slow.sql' && x.outcome !== 'intent').map((x) => x.outcome)).toEqual([
      'rolled_back',
      'rolled_back',
      'failed',
      'rolled_back',
    ])
    await sql(url, 'DELETE FROM pause')
    const rerun = await ddl(['migrate', dir], url, audit).done
    expect(rerun.code).toBe(0)
    expect(await tracked(url)).toEqual(['1_a.sql', '2_slow.sql', '3_c.sql'])
  }, 180_000)
})

describe('two ddl migrate processes racing over 50 files', () => {
  /** Each file records its name in `hits`: a file applied twice would leave two rows (or fail). */
  function files(): Record<string, string> {
    const out: Record<string, string> = {
      '01_hits.sql': "CREATE TABLE hits (name text NOT NULL);\nINSERT INTO hits VALUES ('01');\n",
    }
    for (let i = 2; i <= 50; i++) {
      const name = String(i).padStart(2, '0')
      out[`${name}_step.sql`] =
        i === 20 || i === 40
          ? `CREATE INDEX CONCURRENTLY t${i - 1}_id ON t${i - 1} (id);\n`
          : `CREATE TABLE t${i} (id int);\nSELECT pg_sleep(0.01);\nINSERT INTO hits VALUES ('${name}');\n`
    }
    return out
  }

  it('applies each file exactly once between them; both exit 0; status and both audit logs agree', async () => {
    const url = await freshDatabase()
    const all = files()
    const dir = folder(all)
    const audits = [auditPath(), auditPath()]
    const [a, b] = await Promise.all(audits.map((audit) => ddl(['migrate', dir, '--wait', '300'], url, audit).done))
    expect([a?.code, b?.code], `${a?.stderr}\n${b?.stderr}`).toEqual([0, 0])
    const appliedBy = [a, b].map((r) =>
      [...(r?.stdout ?? '').matchAll(/^ {2}applied {2}(\S+)/gm)].map((m) => m[1] as string),
    )
    const [first = [], second = []] = appliedBy
    expect(first.filter((n) => second.includes(n))).toEqual([])
    expect([...first, ...second].sort()).toEqual(Object.keys(all).sort())

    expect(await tracked(url)).toEqual(Object.keys(all))
    const hits = await sql<{ name: string; n: number }>(url, 'SELECT name, count(*)::int AS n FROM hits GROUP BY name')
    expect(hits).toHaveLength(48)
    expect(hits.every((h) => h.n === 1)).toBe(true)
    expect(await sql(url, 'SELECT * FROM public.ddl_migration_claims')).toEqual([])
    expect(await status(url, dir)).toEqual({
      code: 0,
      counts: { applied: 50, pending: 0, changed: 0, missing: 0, claimed: 0 },
    })

    // Each audit log: every intent answered, and committed exactly for the files its runner applied.
    for (const [i, audit] of audits.entries()) {
      const records = auditOf(audit)
      expect(unanswered(records)).toEqual([])
      const committed = new Set(records.filter((x) => x.outcome === 'committed').map((x) => x.source))
      expect([...committed].sort()).toEqual([...(appliedBy[i] ?? [])].sort())
    }
  }, 300_000)
})
