import { type BigIntStats, closeSync, constants, fstatSync, fsyncSync, openSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { AUDIT_RECORD_VERSION, type AuditEntry, type AuditRecord } from './audit-entry.js'
import { AuditError, toAuditError } from './audit-error.js'
import { resolveActor, resolveAuditPath } from './audit-location.js'
import { ChainVerifier, decodeLine, type VerifyReport } from './chain-verifier.js'
import { type HeldLock, lockStillHeld, withFileLock } from './file-lock.js'
import { GENESIS_HASH, hashRecord } from './hash-chain.js'
import { type HeadNote, headPath, readHead, writeHead } from './head-file.js'
import {
  flushKept,
  type KeptFile,
  type KnownTail,
  keptFile,
  keptIfOpen,
  markUnflushed,
  releaseKept,
} from './kept-file.js'
import { appendAll, readLines, readTail } from './log-file.js'
import { coreOf, entryProblem, serializeRecord } from './record-codec.js'
import { redactSecrets } from './redact-secrets.js'

/** Options of {@link AuditLog.open}. */
export interface AuditOptions {
  /** The log file. Default: `DDL_AUDIT_LOG`, else `~/.safe-ddl/audit.jsonl`. */
  readonly path?: string
  /** Where `DDL_AUDIT_LOG`, `DDL_ACTOR`, `DDL_AUDIT_REDACT_LITERALS` and `HOME` are read. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv
  /** Who acts, when an entry does not say. Default: `DDL_ACTOR`, else the OS user. */
  readonly actor?: string
  /** Replace every string literal with `'***'` too. Default: `DDL_AUDIT_REDACT_LITERALS` is `1` or `true`. */
  readonly redactLiterals?: boolean
  /** fsync each append before it resolves. Default true; turn off only for throwaway logs. */
  readonly durable?: boolean
  /** How long (ms) an append waits for other writers' lock before it fails. Default 20000. */
  readonly lockTimeoutMs?: number
  /** The directory a relative path is taken from. Default `process.cwd()`. */
  readonly cwd?: string
  /** The clock records are stamped with. Default `() => new Date()`. */
  readonly now?: () => Date
}

/** Options of {@link AuditLog.verify}. */
export interface VerifyOptions {
  /**
   * A head hash noted earlier (printed by a past verify, say): the chain must contain a record with
   * it, or records were removed from its end. 64 zeros, the empty log's head, always matches.
   */
  readonly head?: string
  /** Check the `<log>.head` note beside the log when there is one. Default true. */
  readonly headNote?: boolean
}

/** An entry as it is written: its core fields, redacted, with its actor. */
/** Options of {@link AuditLog.append}. */
export interface AppendOptions {
  /**
   * `now` (default): the records are fsynced before `append` resolves. `with-next`: they are
   * written at once (visible to every reader and writer) and made durable by the next fsync of the
   * file: the next `now` append in any process, {@link AuditLog.flush}, or this process's exit. Only
   * for records nothing waits on, such as an outcome: never for an intent (the write-ahead promise
   * needs it on disk before the statement is sent). See docs/audit.md ("Durability").
   */
  readonly flush?: 'now' | 'with-next'
}

type PreparedEntry = ReturnType<typeof coreOf> & { readonly actor: string }

/** A lock directory older than this belongs to a dead process (the value proper-lockfile writers use too). */
const STALE_LOCK_MS = 10_000
const DEFAULT_LOCK_TIMEOUT_MS = 20_000

/**
 * The append-only, hash-chained audit log: one JSON line per {@link AuditRecord} in a file that
 * several processes may append to at once.
 *
 * Nothing here throws: every method returns a `ResultAsync` whose error is an {@link AuditError}.
 * Opening touches no file; the directory (mode 0700) and file (mode 0600) are created by the first
 * append.
 *
 * @example
 * ```ts
 * const log = AuditLog.open({ env: process.env })
 * const flags = { confirm: false, iKnowWhatImDoing: true, dryRun: false, rehearse: false }
 * const intent = await log.append({ project: 'smoothed', tier: 'destructive', statement: 'DROP TABLE old_users', flags, outcome: 'intent', runId })
 * if (intent.isErr()) return err(intent.error) // the sink cannot write: do not run the statement
 * // ... run it, then record what happened:
 * const outcome = await log.append({ project: 'smoothed', tier: 'destructive', statement: 'DROP TABLE old_users', flags, outcome: 'committed', runId })
 * if (outcome.isErr()) return err(outcome.error)
 * ```
 */
export class AuditLog {
  /** The absolute path of the log file. */
  readonly path: string
  /** The actor recorded when an entry names none. */
  readonly actor: string
  readonly #redactLiterals: boolean
  readonly #durable: boolean
  readonly #lockTimeoutMs: number
  readonly #now: () => Date

  private constructor(options: AuditOptions) {
    const env = options.env ?? process.env
    this.path = resolveAuditPath({ path: options.path, env, cwd: options.cwd })
    this.actor = resolveActor({ actor: options.actor, env })
    this.#redactLiterals = options.redactLiterals ?? isTrue(env.DDL_AUDIT_REDACT_LITERALS)
    this.#durable = options.durable ?? true
    this.#lockTimeoutMs = Math.max(0, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS)
    this.#now = options.now ?? (() => new Date())
  }

  /**
   * Returns a log for `options.path ?? env.DDL_AUDIT_LOG ?? ~/.safe-ddl/audit.jsonl`, acting as
   * `options.actor ?? env.DDL_ACTOR ?? the OS user`. Touches no file and never throws.
   */
  static open(options: AuditOptions = {}): AuditLog {
    return new AuditLog(options)
  }

  /**
   * Appends entries as records: redacts `statement` and `error` ({@link redactSecrets}), takes the
   * file lock, reads the last line for the previous hash and seq, writes every line in one write,
   * flushes it to disk (fsync), and only then resolves. A batch is one lock and one fsync; it is
   * recorded whole or not at all. With `{ flush: 'with-next' }` it resolves after the write, and the
   * records become durable with the next fsync of the file ({@link AppendOptions}).
   *
   * Fails with an {@link AuditError} when an entry is invalid (`EINVALID`), the file cannot be
   * written (`EISDIR`, `ENOTDIR`, `EACCES`, `ENOSPC`, ...), another process holds the lock past
   * `lockTimeoutMs` (`ELOCKED`), the file's last line is damaged (`ETAIL`), or the file ends before
   * the head noted beside it in `<log>.head` (`EHEAD`). Then nothing was recorded, and gated work must
   * not run. After a successful fsync it notes the new head in `<log>.head`. Never throws.
   */
  append(
    entries: AuditEntry | readonly AuditEntry[],
    options: AppendOptions = {},
  ): ResultAsync<readonly AuditRecord[], AuditError> {
    const list: readonly AuditEntry[] = isEntryList(entries) ? entries : [entries]
    const now = options.flush !== 'with-next'
    return new ResultAsync(
      this.#append(list, now).catch((error: unknown) => err(toAuditError(error, this.path, 'write'))),
    )
  }

  /**
   * Makes records appended with `flush: 'with-next'` durable now (fsync, then the head note). A
   * no-op when there are none. Fails with an {@link AuditError} when the fsync fails. Never throws.
   */
  flush(): ResultAsync<void, AuditError> {
    return new ResultAsync(
      (async (): Promise<Result<void, AuditError>> => {
        const file = keptIfOpen(this.path)
        if (file !== undefined) flushKept(file)
        return ok(undefined)
      })().catch((error: unknown) => err(toAuditError(error, this.path, 'write'))),
    )
  }

  /**
   * Reads every record, oldest first. A missing file is an empty log. Fails with an
   * {@link AuditError} (`EMALFORMED`) naming the first line that is not a record; it does not check
   * the chain: that is {@link AuditLog.verify}. Never throws.
   */
  read(): ResultAsync<readonly AuditRecord[], AuditError> {
    return new ResultAsync(this.#read().catch((error: unknown) => err(toAuditError(error, this.path, 'read'))))
  }

  /**
   * Checks the whole chain: each line a well-formed record, byte for byte as written, whose hash
   * matches its content, whose `seq` is its line number and whose `prevHash` is the previous
   * record's hash. The chain must also reach the head noted in `<log>.head` (unless
   * `options.headNote` is false) and contain `options.head` when given: a log whose last records
   * were removed fails with `problem: 'cut'`. A broken chain is an `Ok` report with `ok: false` and
   * the first bad line; an `Err` means the file could not be read. A missing file is an empty, valid
   * log. Never throws.
   *
   * @example
   * ```ts
   * const report = await log.verify()
   * if (report.isErr()) throw report.error // the file could not be read
   * console.log(report.value.ok ? `ok: ${report.value.records} records` : report.value.reason)
   * ```
   */
  verify(options: VerifyOptions = {}): ResultAsync<VerifyReport, AuditError> {
    return new ResultAsync(this.#verify(options).catch((error: unknown) => err(toAuditError(error, this.path, 'read'))))
  }

  async #append(
    entries: readonly AuditEntry[],
    flushNow: boolean,
  ): Promise<Result<readonly AuditRecord[], AuditError>> {
    for (const [index, entry] of entries.entries()) {
      const problem = entryProblem(entry)
      if (problem !== undefined) {
        const which = entries.length === 1 ? 'the entry' : `entry ${index + 1}`
        return err(
          new AuditError(`cannot record ${which}: ${problem}. Nothing was recorded; fix the caller.`, this.path, {
            code: 'EINVALID',
          }),
        )
      }
    }
    if (entries.length === 0) return ok([])
    const literals = this.#redactLiterals
    const prepared = entries.map((entry) => {
      const core = coreOf(entry)
      return {
        ...core,
        statement: redactSecrets(core.statement, { literals }),
        ...(core.error === undefined ? {} : { error: redactSecrets(core.error, { literals }) }),
        actor: entry.actor ?? this.actor,
      }
    })

    const opened = keptFile(this.path)
    // A device or a pipe would swallow records (/dev/null) or block: refuse it before locking.
    if ('notAFile' in opened) return err(this.#notAFile(opened.directory))
    const file = opened
    try {
      // Lock the real directory, so two spellings of one path (a symlinked directory) share the lock.
      const target = join(file.realDirectory, basename(this.path))
      const settings = { timeoutMs: this.#lockTimeoutMs, staleMs: STALE_LOCK_MS, path: this.path }
      return await withFileLock(target, settings, (lock) => this.#appendLocked(file, prepared, lock, flushNow))
    } finally {
      releaseKept(file)
    }
  }

  /**
   * The append itself, under the lock, synchronous: about ten system calls and one fsync, with no
   * thread-pool round trips between them (each cost more than the fsync).
   */
  #appendLocked(
    file: KeptFile,
    prepared: readonly PreparedEntry[],
    lock: HeldLock,
    flushNow: boolean,
  ): Result<readonly AuditRecord[], AuditError> {
    const known = file.known
    file.known = undefined
    const stat = fstatSync(file.fd, { bigint: true })
    const size = Number(stat.size)
    let prevHash = GENESIS_HASH
    let seq = 0
    if (known !== undefined && sameFile(known, stat)) {
      prevHash = known.hash
      seq = known.seq
    } else {
      const tail = readTail(file.fd, size)
      if (tail.kind !== 'empty') {
        const last =
          tail.kind === 'line' ? decodeLine({ bytes: tail.bytes, terminated: true, overflow: false }) : undefined
        if (last === undefined || !last.ok) return err(this.#damagedTail(last?.ok === false ? last.detail : tail.kind))
        prevHash = last.record.hash
        seq = last.record.seq
      }
      // Someone else wrote the file since this process did (or this is its first append): its head
      // note must not be ahead of its last record, or records were cut off its end.
      const cut = this.#cutBelowHead(seq, prevHash)
      if (cut !== undefined) return err(cut)
    }
    const time = this.#now().toISOString()
    const records: AuditRecord[] = []
    for (const entry of prepared) {
      const unhashed = { v: AUDIT_RECORD_VERSION, seq: ++seq, time, ...entry, prevHash } as const
      const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed) }
      records.push(record)
      prevHash = record.hash
    }
    const data = Buffer.from(`${records.map(serializeRecord).join('\n')}\n`, 'utf8')
    const sync = this.#durable && flushNow
    // An fsync makes durable every byte written to the file before it, deferred records included.
    appendAll(file.fd, data, size, sync)
    if (sync) file.unflushed = undefined
    if (size === 0 && this.#durable) syncDirectory(dirname(this.path))
    if (!lockStillHeld(lock)) return err(this.#lockLost())
    // The note never names a record the log could still lose: a deferred one is noted when flushed.
    if (this.#durable && !flushNow) markUnflushed(file, this.path, { seq, hash: prevHash })
    else this.#noteHead({ seq, hash: prevHash })
    const after = fstatSync(file.fd, { bigint: true })
    // Still under the lock: the file is ours plus our lines, unless something wrote without the lock.
    if (after.size === stat.size + BigInt(data.length) && after.ino === stat.ino && after.dev === stat.dev) {
      file.known = { size: after.size, mtimeNs: after.mtimeNs, ctimeNs: after.ctimeNs, hash: prevHash, seq }
    }
    return ok(records)
  }

  /** An error when the head note beside the log names a record past the log's last (seq, hash). */
  #cutBelowHead(seq: number, hash: string): AuditError | undefined {
    const note = readHead(this.path)
    if (note === undefined || typeof note === 'string') return undefined // none, or damaged: verify says so
    if (note.seq < seq || (note.seq === seq && note.hash === hash)) return undefined
    return new AuditError(
      `the audit log ${this.path} ends at record ${seq}, but its head note ${headPath(this.path)} names ` +
        `record ${note.seq}: records were removed from its end, so nothing was recorded. Run ` +
        `\`ddl audit verify --log ${this.path}\` and keep both files as evidence; to start a new log, move ` +
        'both aside.',
      this.path,
      { code: 'EHEAD' },
    )
  }

  /**
   * Notes the new head beside the log. Opened by path each time (not kept: the note may be moved
   * aside with the log). Best effort: the records are already durable, and a note that could not be
   * written only lags, which verify accepts.
   */
  #noteHead(note: HeadNote): void {
    try {
      writeHead(this.path, note)
    } catch {
      // An unwritable note only weakens verify's check for a cut end; the append stands.
    }
  }

  async #read(): Promise<Result<readonly AuditRecord[], AuditError>> {
    const handle = await openForReading(this.path)
    if (handle === undefined) return ok([])
    try {
      const stats = await handle.stat()
      if (!stats.isFile()) return err(this.#notAFile(stats.isDirectory()))
      const records: AuditRecord[] = []
      let line = 0
      for await (const raw of readLines(handle)) {
        line++
        const decoded = decodeLine(raw)
        if (!decoded.ok) {
          return err(
            new AuditError(
              `line ${line} of the audit log ${this.path} is not an audit record: ${decoded.detail}. ` +
                `Run \`ddl audit verify --log ${this.path}\` and keep the file as evidence.`,
              this.path,
              { code: 'EMALFORMED' },
            ),
          )
        }
        records.push(decoded.record)
      }
      return ok(records)
    } finally {
      await handle.close().catch(() => undefined)
    }
  }

  async #verify(options: VerifyOptions): Promise<Result<VerifyReport, AuditError>> {
    // The note first: an append writes the log, then the note, so the lines read next contain it.
    const note = options.headNote === false ? undefined : readHead(this.path)
    if (typeof note === 'string') {
      return ok({
        ok: false,
        line: 0,
        problem: 'cut',
        reason: `the head note ${headPath(this.path)} is damaged (${note}): it cannot say whether records were removed`,
        records: 0,
      })
    }
    const hash = options.head?.toLowerCase()
    const verifier = new ChainVerifier({
      ...(note === undefined ? {} : { note }),
      ...(hash === undefined ? {} : { hash }),
    })
    const handle = await openForReading(this.path)
    if (handle === undefined) return ok(verifier.report())
    try {
      const stats = await handle.stat()
      if (!stats.isFile()) return err(this.#notAFile(stats.isDirectory()))
      for await (const raw of readLines(handle)) verifier.feed(raw)
      return ok(verifier.report())
    } finally {
      await handle.close().catch(() => undefined)
    }
  }

  #notAFile(directory: boolean): AuditError {
    if (directory)
      return toAuditError(Object.assign(new Error('is a directory'), { code: 'EISDIR' }), this.path, 'read')
    return new AuditError(
      `the audit log ${this.path} is not a regular file (a device or pipe would lose or block records). ` +
        'Set DDL_AUDIT_LOG (or pass --log) to a regular file.',
      this.path,
      { code: 'ENOTREG' },
    )
  }

  #damagedTail(problem: string): AuditError {
    const detail =
      problem === 'partial'
        ? 'it ends without a newline'
        : problem === 'too-long'
          ? 'it is longer than any record'
          : problem
    return new AuditError(
      `the last line of the audit log ${this.path} is not a complete record (${detail}), so the chain cannot ` +
        `continue and nothing was recorded. Run \`ddl audit verify --log ${this.path}\`, keep the file as ` +
        `evidence, and move it aside (with ${headPath(this.path)}) to start a new log.`,
      this.path,
      { code: 'ETAIL' },
    )
  }

  #lockLost(): AuditError {
    return new AuditError(
      `the lock on the audit log ${this.path} was taken over by another process while this one wrote (it held ` +
        `it longer than ${STALE_LOCK_MS / 1000} s: a stalled disk?); another process may have written at the ` +
        `same time. Run \`ddl audit verify --log ${this.path}\`.`,
      this.path,
      { code: 'ECOMPROMISED' },
    )
  }
}

function sameFile(known: KnownTail, stat: BigIntStats): boolean {
  return stat.size === known.size && stat.mtimeNs === known.mtimeNs && stat.ctimeNs === known.ctimeNs
}

/** Opens for reading; undefined when the file does not exist (an empty log). */
async function openForReading(path: string): Promise<Awaited<ReturnType<typeof open>> | undefined> {
  try {
    // O_NONBLOCK: a FIFO at the path must not hang the reader (it is refused right after).
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
}

/** Makes a new file's directory entry durable too. Some systems cannot fsync a directory: ignore that. */
function syncDirectory(directory: string): void {
  let fd: number
  try {
    fd = openSync(directory, 'r')
  } catch {
    return
  }
  try {
    fsyncSync(fd)
  } catch {
    // EINVAL / EISDIR on systems without directory fsync.
  } finally {
    closeSync(fd)
  }
}

function isEntryList(entries: AuditEntry | readonly AuditEntry[]): entries is readonly AuditEntry[] {
  return Array.isArray(entries)
}

function isTrue(value: string | undefined): boolean {
  return value === '1' || value?.toLowerCase() === 'true'
}
