import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCRIPT = join(ROOT, 'integrations/github-action/run.mjs')
const DDL = `${process.execPath} ${join(ROOT, 'packages/cli/bin/ddl.js')}`

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return r.stdout.trim()
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
}

/** A real git repository: a base commit, then a "pull request" commit changing migrations. */
function fixtureRepo(): { dir: string; base: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-action-repo-'))
  git(dir, 'init', '-q', '-b', 'main')
  git(dir, 'config', 'user.email', 'ci@example.com')
  git(dir, 'config', 'user.name', 'ci')
  write(dir, { 'db/1_users.sql': 'CREATE TABLE users (id bigint PRIMARY KEY, email text);\n' })
  git(dir, 'add', '.')
  git(dir, 'commit', '-q', '-m', 'base')
  const base = git(dir, 'rev-parse', 'HEAD')
  write(dir, {
    'db/2_cleanup.sql': 'CREATE TABLE audit (id bigint);\nDROP TABLE users;\n',
    'db/3_index.sql': 'CREATE INDEX users_email ON users (email);\n',
    'docs/example.sql': 'DROP TABLE everything;\n',
  })
  git(dir, 'add', '.')
  git(dir, 'commit', '-q', '-m', 'pr')
  return { dir, base }
}

function runAction(dir: string, env: Record<string, string>) {
  const outputs = join(dir, '..', `${dir.split('/').pop()}-outputs`)
  const summary = `${outputs}-summary`
  writeFileSync(outputs, '')
  const r = spawnSync(process.execPath, [SCRIPT], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      DDL_WORKDIR: dir,
      DDL_BIN: DDL,
      DDL_RULES_URL: 'https://example.test/rules/',
      GITHUB_OUTPUT: outputs,
      GITHUB_STEP_SUMMARY: summary,
      ...env,
    },
  })
  return { ...r, outputs: readFileSync(outputs, 'utf8'), summary }
}

describe('the GitHub Action entry script', () => {
  it('checks the changed migrations of a pull request: annotations, SARIF and the comment body', () => {
    const { dir, base } = fixtureRepo()
    const r = runAction(dir, { INPUT_BASE: base, INPUT_PATHS: 'db' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1)
    // Annotations on the changed lines, only for the files under the given folder.
    expect(r.stdout).toMatch(/^::error file=db\/2_cleanup\.sql,line=2,col=1,title=drop-table \(destructive\)::/m)
    expect(r.stdout).toMatch(/^::notice file=db\/3_index\.sql,line=1,col=1,title=add-index-without-concurrently/m)
    expect(r.stdout).not.toContain('docs/example.sql')
    expect(r.stdout).not.toContain('1_users.sql')

    const sarif = JSON.parse(readFileSync(join(dir, '.safe-ddl/safe-ddl.sarif'), 'utf8')) as {
      version: string
      runs: {
        results: {
          ruleId: string
          level: string
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]
        }[]
      }[]
    }
    expect(sarif.version).toBe('2.1.0')
    const results = sarif.runs[0]?.results ?? []
    const drop = results.find((x) => x.ruleId === 'drop-table')
    expect(drop?.level).toBe('error')
    expect(drop?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('db/2_cleanup.sql')
    expect(drop?.locations[0]?.physicalLocation.region.startLine).toBe(2)

    const comment = readFileSync(join(dir, '.safe-ddl/comment.md'), 'utf8')
    expect(
      comment.startsWith('<!-- safe-ddl -->\n## safe-ddl: 2 changed migration files, highest tier 🔴 destructive'),
    ).toBe(true)
    expect(comment).toContain('| `db/2_cleanup.sql` | 🔴 destructive | 2 | 2 |')
    expect(comment).toContain('| `db/3_index.sql` | 🟢 safe | 1 | 2 |')
    expect(comment).toContain(
      '- `db/2_cleanup.sql:2` [`drop-table`](https://example.test/rules/drop-table.md) (destructive): ',
    )
    expect(comment).toContain('### Hazards\n')
    expect(comment).toContain(
      '- `db/3_index.sql:1` [`add-index-without-concurrently`](https://example.test/rules/add-index-without-concurrently.md) (hazard): ',
    )
    expect(comment).toContain('Hint: ')
    expect(readFileSync(r.summary, 'utf8')).toBe(comment)
    expect(r.outputs).toContain('files=2\n')
    expect(r.outputs).toContain(`sarif=${join(dir, '.safe-ddl/safe-ddl.sarif')}\n`)
    expect(r.outputs).toContain('exit-code=1\n')
  })

  it('passes below --fail-on, and says so when no migration changed', () => {
    const { dir, base } = fixtureRepo()
    const cautious = runAction(dir, { INPUT_BASE: base, INPUT_PATHS: 'db', INPUT_FAIL_ON: 'never' })
    expect(cautious.status).toBe(0)
    const none = runAction(dir, { INPUT_BASE: 'HEAD', INPUT_PATHS: 'db' })
    expect(none.status).toBe(0)
    expect(none.stdout).toBe('safe-ddl: no changed .sql files to check.\n')
    expect(readFileSync(join(dir, '.safe-ddl/comment.md'), 'utf8')).toBe(
      '<!-- safe-ddl -->\n## safe-ddl: no migration file changed\n',
    )
  })
})

describe('ddl check --format gitlab', () => {
  it('writes a GitLab code-quality report: one issue per finding, with severity, path, line and rule page', () => {
    const { dir } = fixtureRepo()
    const [node, bin] = DDL.split(' ') as [string, string]
    const r = spawnSync(node, [bin, 'check', '--format', 'gitlab', 'db/2_cleanup.sql', 'db/3_index.sql'], {
      cwd: dir,
      encoding: 'utf8',
    })
    expect(r.status).toBe(1)
    const issues = JSON.parse(r.stdout) as {
      check_name: string
      severity: string
      description: string
      fingerprint: string
      location: { path: string; lines: { begin: number } }
    }[]
    const drop = issues.find((i) => i.check_name === 'drop-table')
    expect(drop?.severity).toBe('critical')
    expect(drop?.location).toEqual({ path: 'db/2_cleanup.sql', lines: { begin: 2 } })
    expect(drop?.description).toContain('(docs/rules/drop-table.md)')
    expect(issues.find((i) => i.check_name === 'add-index-without-concurrently')?.severity).toBe('minor')
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length)
  })
})
