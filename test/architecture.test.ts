import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '..')
const packagesDir = join(root, 'packages')
const packages = readdirSync(packagesDir).filter((name) => statSync(join(packagesDir, name)).isDirectory())

/** The design's dependency direction: who may import whom. */
const allowed: Record<string, readonly string[]> = {
  classifier: [],
  audit: [],
  executor: ['classifier', 'audit'],
  schema: ['classifier', 'executor'],
  notify: ['audit'],
  cli: ['classifier', 'audit', 'executor', 'mcp', 'notify', 'schema'],
  mcp: ['classifier', 'audit', 'executor', 'notify', 'schema'],
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      // Build output, like dist/: the CLI's bundle (and the bundle test's scratch copies of it).
      const built = entry.name === 'dist' || entry.name === 'bundle' || entry.name.startsWith('.bundle-test-')
      if (entry.name !== 'node_modules' && !built) out.push(...sourceFiles(path))
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
      out.push(path)
    }
  }
  return out
}

// Import and export specifiers, static and dynamic.
const specifierPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g

function specifiers(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(specifierPattern)].map((m) => m[1] ?? '')
}

/** True when `@ddl/<target>` declares `./<subpath>` in its package.json `exports` (a public subpath). */
function declaredSubpath(target: string | undefined, subpath: string): boolean {
  if (target === undefined || !packages.includes(target)) return false
  const manifest = JSON.parse(readFileSync(join(packagesDir, target, 'package.json'), 'utf8')) as {
    exports?: Record<string, unknown>
  }
  return subpath !== 'package.json' && Object.hasOwn(manifest.exports ?? {}, `./${subpath}`)
}

describe('package boundaries', () => {
  it('knows every package under packages/', () => {
    for (const name of packages)
      expect(allowed, `packages/${name} has no entry in the allowed map`).toHaveProperty(name)
  })

  for (const name of packages) {
    const pkgDir = join(packagesDir, name)
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>
    }

    it(`${name} declares only the workspace dependencies the design allows`, () => {
      const ours = Object.keys(manifest.dependencies ?? {})
        .filter((dep) => dep.startsWith('@ddl/'))
        .map((dep) => dep.slice('@ddl/'.length))
      for (const dep of ours) expect(allowed[name], `${name} depends on @ddl/${dep}`).toContain(dep)
    })

    it(`${name} imports other packages only through their public entry point`, () => {
      const problems: string[] = []
      for (const file of sourceFiles(pkgDir)) {
        const where = relative(root, file)
        for (const spec of specifiers(file)) {
          if (spec.startsWith('@ddl/')) {
            const [, target, ...rest] = spec.split('/')
            if (rest.length > 0 && !declaredSubpath(target, rest.join('/')))
              problems.push(`${where}: deep import ${spec}`)
            if (target !== undefined && !(allowed[name] ?? []).includes(target) && target !== name) {
              problems.push(`${where}: ${name} must not import @ddl/${target}`)
            }
          } else if (spec.startsWith('.')) {
            const target = resolve(file, '..', spec)
            // Tests may use the suite's shared helpers (test/support); source never leaves its package.
            const isTest = file.startsWith(join(pkgDir, 'test') + sep) || file.endsWith('.test.ts')
            const toSupport = target.startsWith(join(root, 'test', 'support') + sep)
            if (!target.startsWith(pkgDir + sep) && !(isTest && toSupport)) {
              problems.push(`${where}: relative import leaves the package: ${spec}`)
            }
          }
        }
      }
      expect(problems).toEqual([])
    })
  }

  it('flags a deep import when one is written (the check itself works)', () => {
    const sample = "import { x } from '@ddl/classifier/src/rules/drop-table.js'"
    const found = [...sample.matchAll(specifierPattern)].map((m) => m[1])
    expect(found).toEqual(['@ddl/classifier/src/rules/drop-table.js'])
  })
})
