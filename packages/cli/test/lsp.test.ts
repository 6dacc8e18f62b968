import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CodeAction,
  CodeActionRequest,
  createProtocolConnection,
  DiagnosticSeverity,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  type Range,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node'

const bin = new URL('../bin/ddl.js', import.meta.url).pathname
const RULES = 'https://github.com/safe-ddl/safe-ddl/blob/main/docs/rules/'

/** A real LSP client on a spawned `ddl lsp`, collecting every publishDiagnostics. */
class Client {
  readonly connection: ProtocolConnection
  readonly published: PublishDiagnosticsParams[] = []
  private waiters: {
    match: (p: PublishDiagnosticsParams) => boolean
    resolve: (p: PublishDiagnosticsParams) => void
  }[] = []
  readonly exited: Promise<number | null>
  stderr = ''

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
    this.connection = createProtocolConnection(
      new StreamMessageReader(child.stdout),
      new StreamMessageWriter(child.stdin),
    )
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.published.push(params)
      const waiter = this.waiters.find((w) => w.match(params))
      if (waiter !== undefined) {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        waiter.resolve(params)
      }
    })
    this.connection.listen()
  }

  /** The next diagnostics published for `uri` (at `version`, when given). */
  diagnostics(uri: string, version?: number): Promise<PublishDiagnosticsParams> {
    const match = (p: PublishDiagnosticsParams) => p.uri === uri && (version === undefined || p.version === version)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }

  async initialize(folder: string): Promise<void> {
    const result = await this.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(folder).href,
      workspaceFolders: [{ uri: pathToFileURL(folder).href, name: 'app' }],
      capabilities: {},
    })
    expect(result.capabilities.codeActionProvider).toEqual({ codeActionKinds: ['quickfix'] })
    expect(result.capabilities.textDocumentSync).toMatchObject({ openClose: true, change: 2 })
    await this.connection.sendNotification(InitializedNotification.type, {})
  }

  async open(uri: string, text: string, languageId = 'sql'): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId, version: 1, text },
    })
  }

  async stop(): Promise<number | null> {
    await this.connection.sendRequest(ShutdownRequest.type)
    await this.connection.sendNotification(ExitNotification.type)
    const code = await this.exited
    this.connection.dispose()
    return code
  }
}

function start(args: readonly string[] = [], cwd = tmpdir()): Client {
  return new Client(spawn(process.execPath, [bin, 'lsp', ...args], { cwd, stdio: 'pipe' }))
}

const range = (sl: number, sc: number, el: number, ec: number): Range => ({
  start: { line: sl, character: sc },
  end: { line: el, character: ec },
})

/** Each diagnostic as [code, severity, range]: what an editor shows. */
function shown(p: PublishDiagnosticsParams): [unknown, unknown, Range][] {
  return p.diagnostics.map((d) => [d.code, d.severity, d.range])
}

let dir = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddl-lsp-'))
  // The same configuration ddl check reads: one rule off, and Postgres 10 (where a column default rewrites).
  await writeFile(
    join(dir, 'ddl.config.json'),
    JSON.stringify({ pgVersion: 10, policy: { rules: { 'prefer-text-field': 'off' } } }),
  )
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const MIGRATION = [
  '-- 0042: accounts',
  'CREATE TABLE t (id int PRIMARY KEY, name varchar(20));',
  '  CREATE INDEX idx ON accounts (email);',
  'ALTER TABLE accounts ADD COLUMN n bigint DEFAULT 0;',
  'DROP TABLE',
  '  orders;',
  'DELETE FROM sessions WHERE expires_at < now();',
  '',
].join('\n')

describe('ddl lsp', () => {
  it("publishes ddl check's findings on open and on change, and offers ignores for hazards only", async () => {
    const client = start()
    try {
      await client.initialize(dir)
      const uri = pathToFileURL(join(dir, '0042_accounts.sql')).href
      const notes = pathToFileURL(join(dir, 'notes.txt')).href

      // A text file is not checked: the first diagnostics published are the SQL file's.
      await client.open(notes, 'DROP TABLE orders;', 'plaintext')
      const opened = client.diagnostics(uri, 1)
      await client.open(uri, MIGRATION)
      const first = await opened
      expect(client.published.map((p) => p.uri)).toEqual([uri])

      expect(shown(first)).toEqual([
        // The policy turns prefer-text-field off; prefer-bigint-over-int is an info hazard.
        ['prefer-bigint-over-int', DiagnosticSeverity.Information, range(1, 0, 1, 53)],
        ['add-index-without-concurrently', DiagnosticSeverity.Error, range(2, 2, 2, 38)],
        ['missing-lock-timeout', DiagnosticSeverity.Warning, range(2, 2, 2, 38)],
        // Only on Postgres 10 (pgVersion from ddl.config.json): the default rewrites the table.
        ['add-column-with-volatile-default', DiagnosticSeverity.Error, range(3, 0, 3, 50)],
        // A destructive statement is an Error over its whole span, both lines.
        ['drop-table', DiagnosticSeverity.Error, range(4, 0, 5, 8)],
        ['delete-with-where', DiagnosticSeverity.Warning, range(6, 0, 6, 45)],
      ])
      for (const d of first.diagnostics) {
        expect(d.source).toBe('safe-ddl')
        expect(d.codeDescription?.href).toBe(`${RULES}${d.code}.md`)
        expect(d.message).toMatch(/\nHint: \S/)
      }
      expect(first.diagnostics.find((d) => d.code === 'drop-table')?.message).toMatch(/orders/)

      // One keystroke: DROP -> XROP. The statement no longer parses: its fallback verdict replaces drop-table.
      const changed = client.diagnostics(uri, 2)
      await client.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: 2 },
        contentChanges: [{ range: range(4, 0, 4, 1), text: 'X' }],
      })
      const second = await changed
      const codes = second.diagnostics.map((d) => d.code)
      expect(codes).not.toContain('drop-table')
      expect(codes).toContain('unparsed-statement')
      expect(codes).toContain('add-index-without-concurrently')
      const unparsed = second.diagnostics.find((d) => d.code === 'unparsed-statement')
      expect(unparsed?.range).toEqual(range(4, 0, 5, 8))
      expect(unparsed?.message).toMatch(/\nParse error: /)

      // Back to DROP and the statement is destructive again.
      const restored = client.diagnostics(uri, 3)
      await client.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: 3 },
        contentChanges: [{ range: range(4, 0, 4, 1), text: 'D' }],
      })
      expect(shown(await restored)).toEqual(shown(first))

      // The CREATE INDEX line: its two hazards, each with an ignore above the (indented) statement.
      const onIndex: CodeAction[] = (await client.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri },
        range: range(2, 10, 2, 10),
        context: { diagnostics: [] },
      })) as CodeAction[]
      expect(onIndex.map((a) => [a.kind, a.edit?.changes?.[uri]])).toEqual([
        [
          'quickfix',
          [{ range: range(2, 0, 2, 0), newText: '  -- ddl:ignore add-index-without-concurrently <reason>\n' }],
        ],
        ['quickfix', [{ range: range(2, 0, 2, 0), newText: '  -- ddl:ignore missing-lock-timeout <reason>\n' }]],
      ])
      expect(onIndex[0]?.diagnostics?.map((d) => d.code)).toEqual(['add-index-without-concurrently'])

      // Tier findings never get one: a comment cannot lower a tier.
      for (const line of [4, 5, 6]) {
        const actions = await client.connection.sendRequest(CodeActionRequest.type, {
          textDocument: { uri },
          range: range(line, 0, line, 3),
          context: { diagnostics: second.diagnostics },
        })
        expect(actions).toEqual([])
      }

      // Closing a document clears its diagnostics.
      const cleared = client.diagnostics(uri)
      await client.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } })
      expect((await cleared).diagnostics).toEqual([])

      expect(await client.stop()).toBe(0)
      expect(client.stderr).toBe('')
    } finally {
      client.child.kill()
    }
  })

  it('reports a configuration ddl check refuses instead of checking without it', async () => {
    const client = start(['--config', 'missing.json'])
    try {
      await client.initialize(dir)
      const uri = pathToFileURL(join(dir, 'a.sql')).href
      const published = client.diagnostics(uri, 1)
      await client.open(uri, 'DROP TABLE orders;\n')
      const { diagnostics } = await published
      expect(diagnostics).toHaveLength(1)
      expect(diagnostics[0]?.severity).toBe(DiagnosticSeverity.Error)
      expect(diagnostics[0]?.message).toMatch(/cannot check this file: .*missing\.json: cannot be read/)
      expect(await client.stop()).toBe(0)
    } finally {
      client.child.kill()
    }
  })
})
