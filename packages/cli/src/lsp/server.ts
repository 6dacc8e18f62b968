import { fileURLToPath } from 'node:url'
import { format } from 'node:util'
import { type ClassifierError, init, NotInitializedError, type Plan } from '@ddl/classifier'
import { err, type Result } from 'neverthrow'
import {
  type CodeAction,
  CodeActionKind,
  type CodeActionParams,
  createConnection,
  type Diagnostic,
  DiagnosticSeverity,
  type InitializeParams,
  type InitializeResult,
  type Range,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver/node'
import { TextDocument } from 'vscode-languageserver-textdocument'
import { type CheckSettings, classifyForCheck, loadCheckConfig } from '../commands/check.js'
import { diagnosticsFor, type Finding, ignoreAction } from './diagnostics.js'

/** How `ddl lsp` was started. */
export interface LspOptions {
  /** The directory the configuration is looked up in when the client names no workspace folder. */
  readonly cwd: string
  readonly input: NodeJS.ReadableStream
  readonly output: NodeJS.WritableStream
  /** `--config`: a ddl.config.json or package.json, relative to the workspace folder. */
  readonly config?: string
  /** `--pg-version`: overrides the configuration's. */
  readonly pgVersion?: number
}

/** How long a change waits for the next keystroke before the document is checked again. */
export const CHANGE_DEBOUNCE_MS = 50

/** Documents the server checks: `.sql` files, and SQL documents not saved yet. */
function isSqlDocument(document: TextDocument): boolean {
  if (/\.sql$/i.test(document.uri)) return true
  return ['sql', 'pgsql', 'postgres', 'postgresql', 'plpgsql'].includes(document.languageId)
}

function folderOf(params: InitializeParams, fallback: string): string {
  const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri
  if (typeof uri === 'string' && uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri)
    } catch {
      return fallback
    }
  }
  return params.rootPath ?? fallback
}

/**
 * Serves the Language Server Protocol on `input` and `output` until the client sends `exit` (or
 * closes the stream), when vscode-languageserver ends the process: 0 after `shutdown`, else 1.
 */
export async function serveLsp(options: LspOptions): Promise<number> {
  const connection = createConnection(options.input, options.output)
  // Standard output is the protocol: anything a library prints goes to the client's log instead.
  console.log = (...args: unknown[]) => connection.console.log(format(...args))
  console.info = (...args: unknown[]) => connection.console.info(format(...args))
  console.debug = (...args: unknown[]) => connection.console.log(format(...args))
  console.warn = (...args: unknown[]) => connection.console.warn(format(...args))
  console.error = (...args: unknown[]) => connection.console.error(format(...args))

  const documents = new TextDocuments(TextDocument)
  /** The findings last published per document (and its version), for the code actions. */
  const published = new Map<string, { version: number; findings: readonly Finding[] }>()
  const timers = new Map<string, NodeJS.Timeout>()
  let folder = options.cwd
  const parser = init()
  let parserError: string | undefined
  parser.catch((error: unknown) => {
    parserError = `the Postgres parser (libpg-query) could not be loaded: ${error instanceof Error ? error.message : String(error)}. Reinstall with pnpm install.`
  })

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    folder = folderOf(params, options.cwd)
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: 'safe-ddl' },
    }
  })

  /** The settings `ddl check` would use, read again each time: an edited ddl.config.json counts at once. */
  async function settings(): Promise<Result<CheckSettings, string>> {
    const config = await loadCheckConfig(folder, options.config)
    return config.map((value) => ({
      ...(value.policy === undefined ? {} : { policy: value.policy }),
      pgVersion: options.pgVersion ?? value.pgVersion,
    }))
  }

  async function classifyText(text: string, chosen: CheckSettings): Promise<Result<Plan, ClassifierError>> {
    await parser
    const plan = classifyForCheck(text, chosen)
    // The parser reloads itself after a crash on some input: wait for it and try once more.
    if (plan.isErr() && plan.error.kind === 'NotInitializedError') {
      await init()
      return classifyForCheck(text, chosen)
    }
    return plan
  }

  /** A diagnostic on the first line for a problem that stops the whole document from being checked. */
  function problem(message: string): Diagnostic {
    return {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Error,
      source: 'safe-ddl',
      message: `ddl check cannot check this file: ${message}`,
    }
  }

  async function validate(uri: string): Promise<void> {
    const document = documents.get(uri)
    if (document === undefined || !isSqlDocument(document)) return
    const version = document.version
    const text = document.getText()
    let diagnostics: Diagnostic[] = []
    let findings: readonly Finding[] = []
    const chosen = await settings()
    if (chosen.isErr()) diagnostics = [problem(chosen.error)]
    else {
      let plan: Result<Plan, ClassifierError>
      try {
        plan = await classifyText(text, chosen.value)
      } catch {
        plan = err(new NotInitializedError(parserError ?? 'the Postgres parser could not be loaded.'))
      }
      if (plan.isErr()) diagnostics = [problem(plan.error.message)]
      else ({ diagnostics, findings } = diagnosticsFor(plan.value, document))
    }
    // A newer edit arrived while this one was being checked: its own run publishes.
    const current = documents.get(uri)
    if (current === undefined || current.version !== version) return
    published.set(uri, { version, findings })
    await connection.sendDiagnostics({ uri, version, diagnostics })
  }

  function schedule(uri: string, delay: number): void {
    const pending = timers.get(uri)
    if (pending !== undefined) clearTimeout(pending)
    timers.set(
      uri,
      setTimeout(() => {
        timers.delete(uri)
        validate(uri).catch((error: unknown) => {
          connection.console.error(`safe-ddl: ${error instanceof Error ? error.message : String(error)}`)
        })
      }, delay),
    )
  }

  // An open fires onDidOpen and then onDidChangeContent: check at once, and skip the second event.
  const opening = new Set<string>()
  documents.onDidOpen((event) => {
    opening.add(event.document.uri)
    schedule(event.document.uri, 0)
  })
  documents.onDidChangeContent((event) => {
    if (opening.delete(event.document.uri)) return
    schedule(event.document.uri, CHANGE_DEBOUNCE_MS)
  })
  documents.onDidClose((event) => {
    opening.delete(event.document.uri)
    const pending = timers.get(event.document.uri)
    if (pending !== undefined) clearTimeout(pending)
    timers.delete(event.document.uri)
    published.delete(event.document.uri)
    void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] })
  })

  connection.onCodeAction((params: CodeActionParams): CodeAction[] => {
    const document = documents.get(params.textDocument.uri)
    const last = published.get(params.textDocument.uri)
    if (document === undefined || last === undefined || last.version !== document.version) return []
    const actions: CodeAction[] = []
    const seen = new Set<string>()
    for (const finding of last.findings) {
      // Hazards only: a comment never lowers a tier, so a tier finding gets no ignore.
      if (finding.tier !== 'safe' || !overlaps(finding.diagnostic.range, params.range)) continue
      const key = `${finding.diagnostic.code}@${finding.diagnostic.range.start.line}`
      if (seen.has(key)) continue
      seen.add(key)
      actions.push(ignoreAction(document, finding))
    }
    return actions
  })

  documents.listen(connection)
  connection.listen()
  return await new Promise<number>(() => {
    // vscode-languageserver ends the process on `exit` or when the client closes the stream.
  })
}

/** True when two ranges share a position (an empty range at a diagnostic's edge counts). */
function overlaps(a: Range, b: Range): boolean {
  const before = (x: Range['start'], y: Range['start']) =>
    x.line < y.line || (x.line === y.line && x.character < y.character)
  return !before(a.end, b.start) && !before(b.end, a.start)
}
