/**
 * Every code block of README.md is run here, or marked as output, so the README cannot rot.
 *
 * - A block right after a line ending in "Output:" is the output of the code block before it: it is
 *   not run, and that block's standard output must equal it (durations, times and hashes aside).
 * - ```js, ```mjs and ```ts blocks are programs: written to a sandbox (TS is transpiled), where
 *   `@ddl/*` resolve through the repository root's node_modules (as for a reader who saves the
 *   file there), and run twice with Node against this file's database (`DDL_DATABASE_URL`): both
 *   runs must pass and print the same. A first line `// name.mjs` names the file, so shell blocks can run it.
 *   They must exit 0 and write nothing to stderr.
 * - ```sh and ```bash blocks are run line by line with sh in the sandbox (`# comments` are cut):
 *   `ddl` and `pnpm ddl` are the built CLI; `pnpm demo` runs the demo; `pnpm install`, `pnpm test`
 *   and `pnpm build` are only checked to exist (this suite is what `pnpm test` runs, after a build).
 *   A `postgres://` URL is replaced by this file's database. Each command must exit 0 or 1 (1 is a
 *   refusal or a failing check, which the README may show); 2 (a usage error) fails the test.
 * - ```console blocks are transcripts: `$ ` lines are run in one sh session, and everything else is
 *   the expected output.
 * - ```json blocks must parse. Any other block must be marked as output.
 *
 * The sandbox holds symlinks to the repository's top-level entries, so paths such as
 * `examples/sql` work, and its own HOME, so `ddl audit` reads its own log.
 *
 * `UPDATE_README=1 pnpm exec vitest run test/readme.test.ts` rewrites the output blocks (and
 * docs/rules/README.md) from what the commands print; `UPDATE_RULE_DOCS=1`, as for the rule pages,
 * rewrites the rule index alone.
 */
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { allRules } from '@ddl/classifier'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import { testDatabase } from './support/database.js'

const root = resolve(import.meta.dirname, '..')
const readmePath = join(root, 'README.md')
const update = process.env.UPDATE_README === '1'
const database = testDatabase('readme')

// ---------------------------------------------------------------------------------------------
// Reading the README

interface Block {
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly lang: string
  readonly body: string
  /** True when the paragraph before the block ends with "Output:". */
  readonly isOutput: boolean
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n')
  const found: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] ?? '')
    if (open === null) continue
    const fence = open[2] ?? '```'
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !(lines[j] ?? '').trim().startsWith(fence)) body.push(lines[j++] ?? '')
    let k = i - 1
    while (k >= 0 && (lines[k] ?? '').trim() === '') k--
    found.push({
      line: i + 1,
      lang: (open[3] ?? '').toLowerCase(),
      body: `${body.join('\n')}\n`,
      isOutput: /Output:\s*$/.test(lines[k] ?? ''),
    })
    i = j
  }
  return found
}

/** Durations, times and hashes differ from run to run. */
function normalise(text: string): string {
  return text
    .replace(/\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g, '<time>')
    .replace(/\b\d+(\.\d+)? ms\b/g, '<n> ms')
    .replace(/\b\d+(\.\d+)? s\b/g, '<n> s')
    .replace(/\b[0-9a-f]{64}\b/g, '<hash>')
    .replace(/\/tmp\/[\w.-]+/g, '<tmp>')
    .replace(/[ \t]+$/gm, '')
    .trimEnd()
}

// ---------------------------------------------------------------------------------------------
// The sandbox

const sandbox = mkdtempSync(join(tmpdir(), 'ddl-readme-'))
const home = join(sandbox, 'home')
const binDir = join(sandbox, '.bin')
const cli = join(root, 'packages/cli/bin/ddl.js')

function prepareSandbox(): void {
  mkdirSync(home)
  mkdirSync(binDir)
  // node_modules too: a program saved at the repository root resolves `@ddl/*` through the root's
  // own dependencies, as it does for a reader.
  for (const entry of readdirSync(root)) {
    if (entry === '.git') continue
    symlinkSync(join(root, entry), join(sandbox, entry))
  }
  const ddl = join(binDir, 'ddl')
  writeFileSync(ddl, `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`)
  chmodSync(ddl, 0o755)
  const scripts = Object.keys(
    (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
  )
  const pnpm = join(binDir, 'pnpm')
  writeFileSync(
    pnpm,
    `#!/bin/sh
# pnpm as the README uses it, inside this test.
case "$1" in
  ddl) shift; exec "${ddl}" "$@" ;;
  exec) shift; exec "$@" ;;
  demo) exec "${ddl}" demo ;;
  install|i|test|build) exit 0 ;;
esac
for script in ${scripts.join(' ')}; do [ "$1" = "$script" ] && exit 0; done
echo "pnpm $1: no such script in package.json" >&2
exit 2
`,
  )
  chmodSync(pnpm, 0o755)
}

function env(): NodeJS.ProcessEnv {
  return {
    PATH: `${binDir}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    DDL_DATABASE_URL: database.url,
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  }
}

interface Ran {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

function sh(script: string): Ran {
  const run = spawnSync('/bin/sh', ['-c', script], {
    cwd: sandbox,
    env: env(),
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

function withDatabase(line: string): string {
  return line.replace(/postgres(ql)?:\/\/[^\s'"]+/g, database.url)
}

/** The commands of a shell block: comments cut, `\` continuations joined. */
function commands(body: string): string[] {
  const out: string[] = []
  let pending = ''
  for (const raw of body.split('\n')) {
    const line = raw.replace(/(^|\s+)#(?![!{]).*$/, '').trimEnd()
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    if (full !== '') out.push(withDatabase(full))
  }
  return out
}

function programName(block: Block, index: number): string {
  const named = /^\/\/\s*([\w.-]+\.m?[jt]s)\s*$/.exec(block.body.split('\n')[0] ?? '')
  const name = named?.[1] ?? `block-${index}.mjs`
  return name.replace(/\.ts$/, '.mjs')
}

function program(block: Block): string {
  if (block.lang !== 'ts') return block.body
  return ts.transpileModule(block.body, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  }).outputText
}

/** Runs a block; returns its standard output, or undefined for a block that is not run. */
function runBlock(block: Block, index: number): string | undefined {
  const where = `README.md:${block.line}`
  switch (block.lang) {
    case 'js':
    case 'mjs':
    case 'ts': {
      const name = programName(block, index)
      writeFileSync(join(sandbox, name), program(block))
      const ran = sh(`"${process.execPath}" ${name}`)
      expect(ran.stderr, `${where}: ${name} wrote to stderr`).toBe('')
      expect(ran.status, `${where}: ${name} exited with ${ran.status}\n${ran.stdout}`).toBe(0)
      // A reader runs it again: it must pass again, and print the same.
      const again = sh(`"${process.execPath}" ${name}`)
      expect(again.stderr, `${where}: ${name} wrote to stderr on its second run`).toBe('')
      expect(again.status, `${where}: ${name} exited with ${again.status} on its second run\n${again.stdout}`).toBe(0)
      expect(normalise(again.stdout), `${where}: ${name} printed otherwise on its second run`).toBe(
        normalise(ran.stdout),
      )
      return ran.stdout
    }
    case 'sh':
    case 'bash':
    case 'shell': {
      let stdout = ''
      for (const command of commands(block.body)) {
        const ran = sh(command)
        expect
          .soft(
            ran.status === 0 || ran.status === 1,
            `${where}: \`${command}\` exited with ${ran.status}\n${ran.stderr}`,
          )
          .toBe(true)
        expect.soft(ran.stderr, `${where}: \`${command}\``).not.toMatch(/unexpected error|error: unknown/)
        stdout += ran.stdout
      }
      return stdout
    }
    case 'console': {
      const lines = block.body.split('\n')
      const typed = lines.filter((line) => line.startsWith('$ '))
      // One session; a marker after each command splits the outputs, keeping each exit status for `$?`.
      const script = typed
        .map((line) => `${withDatabase(line.slice(2))}\n__s=$?; printf '${MARKER}\\n'; (exit $__s)`)
        .join('\n')
      const outputs = sh(script).stdout.split(`${MARKER}\n`)
      const actual = typed.map((command, i) => `${command}\n${outputs[i] ?? ''}`).join('')
      compare(block, block.body, actual, where)
      return outputs.join('')
    }
    case 'json':
      expect(() => JSON.parse(block.body), `${where}: the JSON does not parse`).not.toThrow()
      return undefined
    default:
      throw new Error(
        `${where}: a \`\`\`${block.lang || '(no language)'} block is neither run nor marked as output. ` +
          'Put a line "Output:" before it, or make it a sh, console, js or ts block.',
      )
  }
}

const MARKER = '@@readme-test-end-of-command@@'
const rewrites: { before: string; after: string }[] = []

function compare(block: Block, expected: string, actual: string, where: string): void {
  if (update && normalise(expected) !== normalise(actual)) {
    rewrites.push({ before: block.body, after: actual.endsWith('\n') ? actual : `${actual}\n` })
    return
  }
  expect(normalise(actual), `${where}: the output differs (UPDATE_README=1 rewrites it)`).toBe(normalise(expected))
}

prepareSandbox()

afterAll(() => {
  if (rewrites.length > 0) {
    let readme = readFileSync(readmePath, 'utf8')
    for (const { before, after } of rewrites) readme = readme.replace(before, after)
    writeFileSync(readmePath, readme)
  }
  spawnSync('rm', ['-rf', sandbox])
})

describe('README.md', () => {
  it('has every code block run here or marked as output, and the output matches', () => {
    expect(existsSync(join(root, 'packages/cli/dist/main.js')), 'run pnpm build first (pnpm test does)').toBe(true)
    expect(existsSync(join(root, 'packages/executor/dist/index.js')), 'run pnpm build first').toBe(true)
    const all = blocks(readFileSync(readmePath, 'utf8'))
    expect(all.length).toBeGreaterThan(0)
    let previous: { block: Block; stdout: string | undefined } | undefined
    all.forEach((block, index) => {
      if (block.isOutput) {
        const where = `README.md:${block.line}`
        expect(previous?.stdout, `${where}: an output block must follow a block that is run`).toBeDefined()
        if (previous?.stdout !== undefined) compare(block, block.body, previous.stdout, where)
        previous = undefined
        return
      }
      previous = { block, stdout: runBlock(block, index) }
    })
  }, 600_000)

  it('links only to files that exist', () => {
    for (const file of [readmePath, ...markdownFiles(join(root, 'docs')), join(root, 'examples/README.md')]) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const match of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
        const target = match[1] ?? ''
        if (/^[a-z]+:/i.test(target)) continue
        expect(existsSync(resolve(dirname(file), target)), `${file}: the link ${target} is broken`).toBe(true)
      }
    }
  })
})

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownFiles(join(dir, entry.name))
      : entry.name.endsWith('.md')
        ? [join(dir, entry.name)]
        : [],
  )
}

// ---------------------------------------------------------------------------------------------
// The rule index, docs/rules/README.md

const rulesDir = join(root, 'docs/rules')

/** The first line of a page's "## Problem" section. */
function problem(id: string): string | undefined {
  const path = join(rulesDir, `${id}.md`)
  if (!existsSync(path)) return undefined
  const match = /## Problem\s*\n\s*\n([^\n]+)/.exec(readFileSync(path, 'utf8'))
  return match?.[1]?.trim()
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

function ruleIndex(): string {
  const tierRules = allRules.filter((rule) => rule.hazard !== true)
  const hazards = allRules.filter((rule) => rule.hazard === true)
  const order = { destructive: 0, cautious: 1, safe: 2 } as const
  const severities = { error: 0, warning: 1, info: 2 } as const
  const link = (id: string) => (existsSync(join(rulesDir, `${id}.md`)) ? `[${id}](${id}.md)` : `\`${id}\``)
  const lines = [
    '# Rules',
    '',
    'Every finding of `ddl check` and every refusal of `execute` names one of these rules. Tier rules set',
    'the tier of a statement (the highest wins); hazard rules report operational risks (locks, rewrites,',
    'breaking renames) and leave the tier alone unless the policy says otherwise',
    '(`hazardsRaiseTier`, see [docs/configuration.md](../configuration.md#policy)). A policy can move a',
    'rule to another tier or allow it on named objects.',
    '',
    '## Tier rules',
    '',
    '| rule | tier | what it flags (example message) |',
    '|---|---|---|',
    ...[...tierRules]
      .sort((a, b) => order[a.tier] - order[b.tier] || a.id.localeCompare(b.id))
      .map((rule) => `| ${link(rule.id)} | ${rule.tier} | ${cell(problem(rule.id) ?? '')} |`),
    '',
    `Statements the Postgres grammar rejects are classified from their tokens: ${link('unparsed-statement')}`,
    `(cautious), or ${link('unparsed-destructive')} (destructive) when a destructive word or function shows.`,
    '',
    '## Hazard rules',
    '',
    '| rule | severity | what it flags (example message) |',
    '|---|---|---|',
    ...[...hazards]
      .sort((a, b) => severities[a.severity ?? 'info'] - severities[b.severity ?? 'info'] || a.id.localeCompare(b.id))
      .map((rule) => `| ${link(rule.id)} | ${rule.severity ?? 'info'} | ${cell(problem(rule.id) ?? '')} |`),
    '',
    'How often the rules are right on real migration histories, beside squawk: [precision.md](precision.md).',
    '',
    'Generated from the rules and their pages by `test/readme.test.ts` (`UPDATE_RULE_DOCS=1` rewrites it).',
    '',
  ]
  return lines.join('\n')
}

describe('docs/rules/README.md', () => {
  it('lists every rule with its tier and links every rule page', () => {
    const path = join(rulesDir, 'README.md')
    const expected = ruleIndex()
    if (update || process.env.UPDATE_RULE_DOCS === '1') writeFileSync(path, expected)
    expect(
      readFileSync(path, 'utf8'),
      'a rule or rule page changed: UPDATE_RULE_DOCS=1 pnpm exec vitest run test/readme.test.ts -t rule rewrites the index',
    ).toBe(expected)
    for (const page of readdirSync(rulesDir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      expect(expected, `docs/rules/${page} is not linked from the index`).toContain(`(${page})`)
    }
  })
})
