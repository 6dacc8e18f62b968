/**
 * Precision run: `ddl check` (this worktree's build) and squawk over the same migration histories, as
 * a team adopting either would run them. Prints statements, findings and findings per 100 statements
 * per tool and corpus, and writes a deterministic sample of each tool's findings to judge by hand
 * (docs/rules/precision.md publishes the judged table).
 *
 *   node bench/precision.mjs --out /tmp/precision name=/path/to/migrations[:supabase] ...
 *
 * Each corpus is a directory of .sql files (down migrations already removed). `:supabase` runs
 * `ddl check --profile supabase`. squawk runs with --assume-in-transaction (every tool measured wraps
 * each migration in a transaction). The corpora are never copied into the repository.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { squawkBinary } from './rows/check.mjs'

const ddlBin = fileURLToPath(new URL('../packages/cli/bin/ddl.js', import.meta.url))
const PER_TOOL_PER_CORPUS = Number(process.env.SAMPLE ?? 25)

function sqlFiles(dir) {
  const out = []
  const walk = (at) => {
    for (const e of readdirSync(at, { withFileTypes: true })) {
      const p = join(at, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.sql')) out.push(p)
    }
  }
  walk(dir)
  return out.sort()
}

/** Every k-th item so that about n are taken, spread over the whole list. */
function spread(items, n) {
  if (items.length <= n) return items
  const step = items.length / n
  return Array.from({ length: n }, (_, i) => items[Math.floor(i * step)])
}

const args = process.argv.slice(2)
const outAt = args.indexOf('--out')
const out = outAt === -1 ? '/tmp/precision' : args[outAt + 1]
const corpora = args.filter((a, i) => a.includes('=') && i !== outAt + 1)
mkdirSync(out, { recursive: true })
const squawk = squawkBinary()
if (squawk === undefined) throw new Error('squawk is not installed: pnpm install')

const rows = []
const samples = { ddl: [], squawk: [] }
for (const spec of corpora) {
  const [name, rest] = spec.split('=')
  const [path, profile] = rest.split(':')
  const files = sqlFiles(path)
  const ddl = spawnSync(
    process.execPath,
    [
      ddlBin,
      'check',
      path,
      '--format',
      'json',
      '--fail-on',
      'never',
      ...(profile ? ['--profile', profile] : ['--profile', 'none']),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 30, cwd: path },
  )
  const report = JSON.parse(ddl.stdout)
  const sq = spawnSync(
    squawk,
    ['--reporter', 'json', '--assume-in-transaction', ...files.map((f) => relative(path, f))],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      cwd: path,
    },
  )
  const squawkFindings = JSON.parse(sq.stdout || '[]')
  let statements = 0
  const ddlFindings = []
  const byTier = { safe: 0, cautious: 0, destructive: 0 }
  for (const file of report.files) {
    for (const s of file.statements) {
      statements++
      byTier[s.tier]++
      for (const f of s.findings) {
        ddlFindings.push({
          corpus: name,
          file: file.path,
          line: s.line,
          rule: f.rule,
          level: f.tier === 'safe' ? `hazard/${f.severity}` : f.tier,
          statementTier: s.tier,
          statement: s.text.replace(/\s+/g, ' ').slice(0, 160),
          message: f.message.replace(/\s+/g, ' ').slice(0, 240),
        })
      }
    }
  }
  const sqFindings = squawkFindings.map((f) => {
    const source = readFileSync(join(path, f.file), 'utf8').split('\n')
    return {
      corpus: name,
      file: f.file,
      line: f.line + 1,
      rule: f.rule_name,
      level: f.level,
      statement: source
        .slice(f.line, (f.line_end ?? f.line) + 1)
        .join(' ')
        .replace(/\s+/g, ' ')
        .slice(0, 160),
      message: String(f.message).replace(/\s+/g, ' ').slice(0, 240),
    }
  })
  const rules = (list) => {
    const counts = new Map()
    for (const f of list) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1)
    return [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`)
  }
  rows.push({
    name,
    files: files.length,
    statements,
    byTier,
    ddl: ddlFindings.length,
    ddlTierFindings: ddlFindings.filter((f) => !f.level.startsWith('hazard')).length,
    squawk: sqFindings.length,
    squawkExit: sq.status,
    ddlRules: rules(ddlFindings),
    squawkRules: rules(sqFindings),
  })
  samples.ddl.push(...spread(ddlFindings, PER_TOOL_PER_CORPUS))
  samples.squawk.push(...spread(sqFindings, PER_TOOL_PER_CORPUS))
  writeFileSync(join(out, `${name}-ddl.json`), JSON.stringify(ddlFindings, null, 1))
  writeFileSync(join(out, `${name}-squawk.json`), JSON.stringify(sqFindings, null, 1))
}

const tsv = (list) =>
  ['#\tcorpus\tfile\tline\trule\tlevel\tstatement\tmessage\tjudgement']
    .concat(
      list.map((f, i) => [i + 1, f.corpus, f.file, f.line, f.rule, f.level, f.statement, f.message, ''].join('\t')),
    )
    .join('\n')
writeFileSync(join(out, 'sample-ddl.tsv'), `${tsv(samples.ddl)}\n`)
writeFileSync(join(out, 'sample-squawk.tsv'), `${tsv(samples.squawk)}\n`)
writeFileSync(join(out, 'summary.json'), JSON.stringify(rows, null, 1))

console.log('| corpus | files | statements | ddl findings | per 100 | of them tier | squawk findings | per 100 |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of rows) {
  const per = (n) => ((100 * n) / Math.max(1, r.statements)).toFixed(1)
  console.log(
    `| ${r.name} | ${r.files} | ${r.statements} | ${r.ddl} | ${per(r.ddl)} | ${r.ddlTierFindings} | ${r.squawk} | ${per(r.squawk)} |`,
  )
}
for (const r of rows) {
  console.log(`\n${r.name}: tiers ${JSON.stringify(r.byTier)}; squawk exit ${r.squawkExit}`)
  console.log(`  ddl:    ${r.ddlRules.join(', ')}`)
  console.log(`  squawk: ${r.squawkRules.join(', ')}`)
}
console.log(`\nSamples: ${join(out, 'sample-ddl.tsv')}, ${join(out, 'sample-squawk.tsv')}`)
