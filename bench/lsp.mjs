// `node bench/lsp.mjs`: how long `ddl lsp` takes to publish diagnostics for a 1,000-line .sql file,
// measured from a real LSP client over stdio (what an editor waits for). Not part of `pnpm bench`.
//   open    didOpen of the file -> its publishDiagnostics
//   change  didChange of one character (a letter typed in a comment) -> the new publishDiagnostics;
//           this includes the server's 50 ms debounce, which waits for the next keystroke
// Each figure is the median of --runs (default 20) runs in one server, with min and max; the first
// open (the parser still loading) is reported on its own. Needs the build (pnpm build).
//   --runs N   runs per figure (default 20)
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { generateMigrations } from './lib/migrations.mjs'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } })
const runs = Math.max(1, Number.parseInt(values.runs, 10) || 20)
const LINES = 1000

const cli = fileURLToPath(new URL('../packages/cli/', import.meta.url))
const require = createRequire(join(cli, 'package.json'))
const {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} = require('vscode-languageserver-protocol/node')

/** Exactly LINES lines of everyday migrations (bench/lib/migrations.mjs), cut at a file boundary and topped up. */
function thousandLines() {
  const dir = mkdtempSync(join(os.tmpdir(), 'ddl-bench-lsp-'))
  try {
    generateMigrations(dir, 150)
    const lines = ['-- 1,000 lines of migrations for the ddl lsp benchmark']
    for (const name of readdirSync(dir).sort()) {
      const file = readFileSync(join(dir, name), 'utf8').trimEnd().split('\n')
      if (lines.length + file.length > LINES) break
      lines.push(...file)
    }
    for (let i = 0; lines.length < LINES; i++) lines.push(`CREATE INDEX bench_pad_${i} ON accounts (id);`)
    return `${lines.join('\n')}\n`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmt = (xs) =>
  `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})`

const text = thousandLines()
const folder = mkdtempSync(join(os.tmpdir(), 'ddl-bench-lsp-ws-'))
const child = spawn(process.execPath, [join(cli, 'bin/ddl.js'), 'lsp'], { cwd: folder, stdio: 'pipe' })
child.stderr.pipe(process.stderr)
const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin))
let waiting
connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
  if (waiting !== undefined && params.uri === waiting.uri && params.version === waiting.version) {
    const done = waiting
    waiting = undefined
    done.resolve(params)
  }
})
connection.listen()
const published = (uri, version) =>
  new Promise((resolve) => {
    waiting = { uri, version, resolve }
  })

await connection.sendRequest(InitializeRequest.type, {
  processId: process.pid,
  rootUri: pathToFileURL(folder).href,
  capabilities: {},
})
await connection.sendNotification(InitializedNotification.type, {})

const opens = []
const changes = []
let diagnostics = 0
// The comment on the first line: typing a letter there changes no statement, the whole file is checked again.
const at = { line: 0, character: 3 }
for (let i = 0; i <= runs; i++) {
  const uri = pathToFileURL(join(folder, `bench_${i}.sql`)).href
  let t = performance.now()
  let done = published(uri, 1)
  await connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'sql', version: 1, text },
  })
  const first = await done
  const open = performance.now() - t
  diagnostics = first.diagnostics.length
  t = performance.now()
  done = published(uri, 2)
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: at, end: at }, text: 'x' }],
  })
  await done
  const change = performance.now() - t
  await connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } })
  if (i === 0) process.stdout.write(`first open (parser loading): ${open.toFixed(1)} ms\n`)
  else {
    opens.push(open)
    changes.push(change)
  }
}
await connection.sendRequest(ShutdownRequest.type)
await connection.sendNotification(ExitNotification.type)
connection.dispose()
rmSync(folder, { recursive: true, force: true })

const statements = text.split(';').length - 1
process.stdout.write(
  `${LINES} lines, ${Buffer.byteLength(text)} bytes, ~${statements} statements, ${diagnostics} diagnostics; node ${process.version}, ${os.cpus().length} cpus\n` +
    `open -> diagnostics:              ${fmt(opens)}\n` +
    `one-character change -> diagnostics: ${fmt(changes)} (includes the 50 ms debounce)\n`,
)
