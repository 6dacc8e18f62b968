/**
 * Row 4: 150 generated migration files through `ddl migrate` (one process: tracked, gated, audited,
 * one transaction per file) against one psql session applying each file in its own transaction
 * (`BEGIN; \i file; COMMIT;` per file, one process: the reference), and against a shell loop
 * of `psql -1 -f` per file (a process and a login per file). Each run gets a fresh database; each
 * pays its own process start-up.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ratioOf, runProcess, summarize } from '../lib/measure.mjs'

const ddlBin = fileURLToPath(new URL('../../packages/cli/bin/ddl.js', import.meta.url))

/** psql on the PATH (or /usr/bin/psql), or undefined. */
export function findPsql() {
  for (const candidate of ['psql', '/usr/bin/psql']) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' })
    if (r.status === 0) return { path: candidate, version: r.stdout.trim() }
  }
  return undefined
}

/** `ddl migrate` with the flag these migrations need (their UPDATE backfills are cautious), or undefined. */
export function migrationRunner() {
  const help = spawnSync(process.execPath, [ddlBin, 'migrate', '--help'], { encoding: 'utf8' })
  if (help.status !== 0 || !/migrat/i.test(help.stdout)) return undefined
  const confirm = help.stdout.includes('--confirm') ? ['--confirm'] : []
  return { name: 'ddl migrate', args: (dir) => [ddlBin, 'migrate', dir, ...confirm] }
}

/** A psql script applying each file of `dir` in its own transaction, in name order (as the shell glob). */
function sessionScript(dir, path) {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  const quoted = (f) => `'${join(dir, f).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
  writeFileSync(path, names.map((f) => `BEGIN;\n\\i ${quoted(f)}\nCOMMIT;\n`).join(''))
  return path
}

export async function migrateRow({ server, dir, files, runs, runner, psql }) {
  const kinds = ['ddl', 'psqlSession', 'psql']
  const times = { ddl: [], psqlSession: [], psql: [] }
  const rss = { ddl: [], psqlSession: [], psql: [] }
  const scratch = mkdtempSync(join(tmpdir(), 'safe-ddl-bench-migrate-'))
  const loop = 'for f in "$1"/*.sql; do "$2" -X -q -1 -v ON_ERROR_STOP=1 -f "$f" >/dev/null || exit 1; done'
  const script = sessionScript(dir, join(scratch, 'session.psql'))
  let n = 0
  try {
    for (let i = -1; i < runs; i++) {
      const order = i % 2 === 0 ? kinds : [...kinds].reverse()
      for (const kind of order) {
        const db = `bench_migrate_${n++}`
        await server.createDatabase(db)
        const url = server.url(db)
        const pgEnv = {
          PGHOST: '127.0.0.1',
          PGPORT: String(server.port),
          PGUSER: 'postgres',
          PGPASSWORD: server.password,
          PGDATABASE: db,
        }
        const r =
          kind === 'ddl'
            ? await runProcess('node', runner.args(dir), {
                cwd: scratch,
                capture: true,
                env: { DDL_DATABASE_URL: url, DATABASE_URL: url, DDL_AUDIT_LOG: join(scratch, `audit-${n}.jsonl`) },
              })
            : kind === 'psqlSession'
              ? await runProcess(psql.path, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script], {
                  cwd: scratch,
                  capture: true,
                  env: pgEnv,
                })
              : await runProcess('sh', ['-c', loop, 'sh', dir, psql.path], { cwd: scratch, capture: true, env: pgEnv })
        await server.dropDatabase(db)
        if (r.code !== 0) throw new Error(`${kind} failed (exit ${r.code}): ${r.stderr.slice(0, 800)}`)
        if (i >= 0) {
          times[kind].push(r.ms)
          if (r.rssMiB !== undefined) rss[kind].push(r.rssMiB)
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  const peak = (list) => (list.length > 0 ? Math.max(...list) : undefined)
  return {
    runner: runner.name,
    files,
    ddl: { ...summarize(times.ddl), peakRssMiB: peak(rss.ddl) },
    psqlSession: {
      ...summarize(times.psqlSession),
      peakRssMiB: peak(rss.psqlSession),
      version: psql.version,
      ratio: ratioOf(times.ddl, times.psqlSession),
      target: 1.5,
    },
    psql: { ...summarize(times.psql), peakRssMiB: peak(rss.psql), version: psql.version },
    ratio: ratioOf(times.ddl, times.psql),
    target: 0.3,
  }
}
