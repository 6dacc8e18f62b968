/**
 * The release rehearsal: pack every package as `pnpm publish` would (pnpm rewrites `workspace:*`
 * to the real version), then install one tarball alone into a fresh project, as a user would,
 * with the other `@ddl/*` tarballs it needs given as local files. Used by test/release-dry.test.ts
 * (`pnpm release:dry`).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const root = resolve(import.meta.dirname, '..', '..')
export const PACKAGES = ['classifier', 'audit', 'executor', 'schema', 'notify', 'cli', 'mcp'] as const
export type PackageName = (typeof PACKAGES)[number]
export type Manager = 'npm' | 'pnpm'

export interface Run {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end; never throws (a spawn failure shows as status null). */
export function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  })
  return {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: `${result.stderr ?? ''}${result.error === undefined ? '' : String(result.error)}`,
  }
}

/** Runs a command and throws with its output when it fails. */
export function must(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const result = run(command, args, cwd, env)
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`,
    )
  }
  return result
}

export interface Tarball {
  readonly name: PackageName
  readonly path: string
  readonly bytes: number
  /** Paths inside the tarball, without the `package/` prefix. */
  readonly files: readonly string[]
  /** The package.json inside the tarball. */
  readonly manifest: {
    readonly version: string
    readonly dependencies?: Record<string, string>
    readonly peerDependencies?: Record<string, string>
  }
}

/** `pnpm pack`s every package into `dir` (the workspace must be built). */
export function packAll(dir: string): Tarball[] {
  mkdirSync(dir, { recursive: true })
  return PACKAGES.map((name) => {
    const packed = must('pnpm', ['pack', '--pack-destination', dir], join(root, 'packages', name))
    const file = packed.stdout.trim().split('\n').at(-1)?.trim() ?? ''
    const path = resolve(dir, file)
    const files = must('tar', ['-tzf', path], dir)
      .stdout.split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/^package\//, ''))
    const manifest = JSON.parse(must('tar', ['-xzOf', path, 'package/package.json'], dir).stdout) as Tarball['manifest']
    return { name, path, bytes: statSync(path).size, files, manifest }
  })
}

/** The dev tools a consumer compiles with: the versions the workspace uses. */
function devTools(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>
  }
  return {
    typescript: manifest.devDependencies.typescript ?? 'latest',
    '@types/node': manifest.devDependencies['@types/node'] ?? 'latest',
  }
}

/** A strict TypeScript consumer: NodeNext, strict, and the libraries' own declarations checked. */
export const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'out',
  },
  files: ['index.ts'],
}

/**
 * Writes a scratch project in `dir` that depends on the tarball of `target` only, with every other
 * `@ddl/*` package taken from its tarball too (npm `overrides`, pnpm `pnpm.overrides`), and the
 * consumer `source` as index.ts. Once the packages are on the registry, none of the overrides are
 * needed: `npm install @ddl/executor` alone is the install.
 */
export function writeScratch(
  dir: string,
  manager: Manager,
  target: PackageName,
  tarballs: readonly Tarball[],
  source: string,
): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const spec = (t: Tarball) => `file:${t.path}`
  const own = tarballs.find((t) => t.name === target)
  if (own === undefined) throw new Error(`no tarball for ${target}`)
  const others = Object.fromEntries(tarballs.filter((t) => t.name !== target).map((t) => [`@ddl/${t.name}`, spec(t)]))
  const manifest = {
    name: `scratch-${target}-${manager}`,
    private: true,
    type: 'module',
    dependencies: { [`@ddl/${target}`]: spec(own) },
    devDependencies: devTools(),
    ...(manager === 'npm' ? { overrides: others } : { pnpm: { overrides: others } }),
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(CONSUMER_TSCONFIG, null, 2)}\n`)
  writeFileSync(join(dir, 'index.ts'), source)
}

/** Installs the scratch project with `manager`, as a user would (no workspace, no lockfile). */
export function install(dir: string, manager: Manager): void {
  if (manager === 'npm') must('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir)
  // CI=true makes pnpm default to a frozen lockfile, and a new project has none.
  else must('pnpm', ['install', '--no-frozen-lockfile', '--ignore-workspace', '--reporter=silent'], dir)
}

/** Bytes of the installed packages under node_modules, leaving out the consumer's compiler and Node types. */
export function installedBytes(dir: string): number {
  const skip = /(^|\/)(typescript|@types\/node|typescript@[^/]*|@types\+node@[^/]*)$/
  let total = 0
  const walk = (path: string, rel: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`
      if (skip.test(childRel)) continue
      const child = join(path, entry.name)
      if (entry.isDirectory()) walk(child, childRel)
      else if (entry.isFile()) total += statSync(child).size
    }
  }
  walk(join(dir, 'node_modules'), '')
  return total
}

/** The consumer program for `target`, from scripts/release-dry/. */
export function consumerSource(target: PackageName): string {
  return readFileSync(join(root, 'scripts', 'release-dry', `${target}.ts`), 'utf8')
}
