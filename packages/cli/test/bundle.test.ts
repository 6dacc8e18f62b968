import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const cliDir = resolve(import.meta.dirname, '..')
const root = resolve(cliDir, '../..')
let bundleDir = ''
let work = ''

// The bundle is made from dist/: build it, then bundle into a scratch directory inside the package
// (so the bundle's external imports resolve from the package, as bundle/ does).
beforeAll(async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', root], { stdio: 'inherit' })
  bundleDir = await mkdtemp(join(cliDir, '.bundle-test-'))
  execFileSync(process.execPath, [join(cliDir, 'scripts', 'bundle.mjs'), '--out', bundleDir], { stdio: 'pipe' })
  work = await mkdtemp(join(root, '.tmp-bundle-work-'))
}, 180_000)

afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true })
  await rm(work, { recursive: true, force: true })
})

/** Runs one entry with `args`; never rejects on a non-zero exit. */
async function ddl(entry: string, args: readonly string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [entry, ...args], {
      cwd: work,
      env: { ...process.env, NO_COLOR: '1', DDL_AUDIT_LOG: join(work, 'audit.jsonl'), ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the bundled CLI', () => {
  it('answers as the compiled modules do', async () => {
    const file = join(work, 'm.sql')
    await writeFile(
      file,
      'CREATE TABLE t (id int PRIMARY KEY);\nDROP TABLE old_users;\nALTER TABLE t ADD COLUMN c text;\n',
    )
    const cases: string[][] = [
      ['--version'],
      ['--help'],
      ['check', '--help'],
      ['check', file],
      ['check', '--format', 'json', file],
      ['check', '--format', 'sarif', file],
      ['audit', 'verify'],
      ['nonsense'],
    ]
    for (const args of cases) {
      const bundled = await ddl(join(bundleDir, 'main.js'), args)
      const modules = await ddl(join(cliDir, 'dist', 'main.js'), args)
      expect({ args, ...bundled }).toEqual({ args, ...modules })
    }
    // Not vacuous: the check found the DROP TABLE.
    expect((await ddl(join(bundleDir, 'main.js'), ['check', file])).code).toBe(1)
  }, 120_000)

  it("starts its own worker thread for ddl check, which answers as the modules' does", async () => {
    const files = ['a.sql', 'b.sql', 'c.sql'].map((name) => join(work, name))
    await writeFile(files[0] as string, 'CREATE TABLE w (c varchar(100));\n')
    await writeFile(files[1] as string, 'INSERT INTO w VALUES (1);\n')
    await writeFile(files[2] as string, 'ALTER TABLE w ALTER c TYPE varchar(10);\nDROP TABLE w;\n')
    const args = ['check', '--format', 'json', ...files]
    const env = { DDL_CHECK_THREADS: '2', NODE_DEBUG: 'worker' }
    const bundled = await ddl(join(bundleDir, 'main.js'), args, env)
    const modules = await ddl(join(cliDir, 'dist', 'main.js'), args, env)
    expect(bundled.stderr).toContain(`${pathToFileURL(bundleDir).href}/check-worker.js`)
    expect(modules.stderr).toContain(pathToFileURL(join(cliDir, 'dist', 'commands', 'check-worker.js')).href)
    expect(bundled.stdout).toBe(modules.stdout)
    expect(bundled.code).toBe(1)
    expect(bundled.stdout).toContain('changes it from varchar(100)')
  }, 60_000)

  it('lists the build witnesses of every package in it, so the launcher can tell a stale bundle', async () => {
    const inputs = JSON.parse(await readFile(join(bundleDir, 'inputs.json'), 'utf8')) as [string, number, number][]
    const names = inputs.map(([path]) => resolve(bundleDir, path).split('\\').join('/'))
    for (const pkg of ['cli', 'classifier', 'audit', 'executor', 'mcp'])
      expect(names).toContain(join(root, 'packages', pkg, 'dist', '.tsbuildinfo').split('\\').join('/'))
  })
})
