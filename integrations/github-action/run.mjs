#!/usr/bin/env node
// Entry script of the safe-ddl GitHub Action (action.yml at the repository root). It finds the SQL
// files a pull request changes, runs `ddl check` on them, and writes:
// - GitHub annotations (`::error file=...,line=...::...`) on standard output, from `ddl check --format github`;
// - a SARIF file for code scanning, from `ddl check --format sarif`;
// - one Markdown comment body (tiers, hazards, rule pages), from `ddl check --format json`, also
//   appended to the job summary.
// Exit code: ddl check's (0 below --fail-on, 1 at or above it, 2 on a usage or read error).
// Inputs come from the environment, as GitHub passes them to composite steps (see action.yml).
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const env = process.env
const cwd = resolve(env.DDL_WORKDIR ?? env.GITHUB_WORKSPACE ?? process.cwd())
const out = resolve(cwd, env.DDL_OUTPUT_DIR ?? '.safe-ddl')
const ddl = env.DDL_BIN ?? 'ddl'
const failOn = env.INPUT_FAIL_ON || 'destructive'
const prefixes = (env.INPUT_PATHS ?? '')
  .split(/[\s,]+/)
  .map((p) => p.replace(/^\.\//, '').replace(/\/?$/, '/'))
  .filter((p) => p !== '/')
const base = env.INPUT_BASE || (env.GITHUB_BASE_REF ? `origin/${env.GITHUB_BASE_REF}` : 'HEAD~1')
const rulesUrl =
  env.DDL_RULES_URL ??
  `https://github.com/${env.GITHUB_ACTION_REPOSITORY || 'safe-ddl/safe-ddl'}/blob/${env.GITHUB_ACTION_REF || 'main'}/docs/rules/`
export const MARKER = '<!-- safe-ddl -->'

function git(args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.trim()}`)
  return r.stdout
}

function check(format, files) {
  const [command, ...pre] = ddl.split(' ')
  const r = spawnSync(command, [...pre, 'check', '--format', format, '--fail-on', failOn, ...files], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (r.error !== undefined) throw r.error
  return { code: r.status ?? 2, stdout: r.stdout, stderr: r.stderr }
}

function output(name, value) {
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${name}=${value}\n`)
}

const ICON = { safe: '🟢', cautious: '🟡', destructive: '🔴' }

/** The comment body: a table of files and tiers, then each finding with its hint and rule page. */
export function commentBody(report, files) {
  const lines = [MARKER]
  const tiers = report.files.map((f) => f.tier)
  const highest = tiers.includes('destructive') ? 'destructive' : tiers.includes('cautious') ? 'cautious' : 'safe'
  lines.push(
    `## safe-ddl: ${files.length} changed migration file${files.length === 1 ? '' : 's'}, highest tier ${ICON[highest]} ${highest}`,
    '',
    '| file | tier | statements | findings |',
    '|---|---|---|---|',
  )
  for (const f of report.files) {
    const findings = f.statements.reduce((n, s) => n + s.findings.length, 0)
    lines.push(`| \`${f.path}\` | ${ICON[f.tier]} ${f.tier} | ${f.statements.length} | ${findings} |`)
  }
  const entries = report.files.flatMap((f) =>
    f.statements.flatMap((s) => s.findings.map((finding) => ({ path: f.path, line: s.line, finding }))),
  )
  const tiered = entries.filter((e) => e.finding.tier !== 'safe')
  const hazards = entries.filter((e) => e.finding.tier === 'safe')
  const item = ({ path, line, finding }) =>
    `- \`${path}:${line}\` [\`${finding.rule}\`](${rulesUrl}${finding.rule}.md) (${finding.tier === 'safe' ? 'hazard' : finding.tier}): ${finding.message}` +
    (finding.hint ? `\n  Hint: ${finding.hint}` : '')
  if (tiered.length > 0) lines.push('', '### Cautious and destructive statements', '', ...tiered.map(item))
  if (hazards.length > 0) lines.push('', '### Hazards', '', ...hazards.map(item))
  if (entries.length === 0) lines.push('', 'No findings.')
  lines.push(
    '',
    `Fails at: ${failOn}. A hazard that is intended can be silenced on its statement with \`-- ddl:ignore <rule> <reason>\`.`,
  )
  return `${lines.join('\n')}\n`
}

function main() {
  mkdirSync(out, { recursive: true })
  const changed = git(['diff', '--name-only', '--diff-filter=ACMR', `${base}...HEAD`, '--', '*.sql'])
    .split('\n')
    .filter((f) => f !== '')
    .filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)))
  output('files', changed.length)
  const sarifPath = join(out, 'safe-ddl.sarif')
  const commentPath = join(out, 'comment.md')
  if (changed.length === 0) {
    const body = `${MARKER}\n## safe-ddl: no migration file changed\n`
    writeFileSync(commentPath, body)
    writeFileSync(sarifPath, JSON.stringify({ version: '2.1.0', runs: [] }))
    output('sarif', sarifPath)
    output('comment', commentPath)
    process.stdout.write('safe-ddl: no changed .sql files to check.\n')
    return 0
  }
  const annotations = check('github', changed)
  process.stdout.write(annotations.stdout)
  process.stderr.write(annotations.stderr)
  const sarif = check('sarif', changed)
  writeFileSync(sarifPath, sarif.stdout)
  const json = check('json', changed)
  const report = JSON.parse(json.stdout || '{"files":[]}')
  const body = commentBody(report, changed)
  writeFileSync(commentPath, body)
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, body)
  output('sarif', sarifPath)
  output('comment', commentPath)
  output('exit-code', annotations.code)
  return annotations.code
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = main()
  } catch (error) {
    process.stderr.write(`safe-ddl action: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 2
  }
}
