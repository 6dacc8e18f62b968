import { type BigIntStats, constants } from 'node:fs'
import { type FileHandle, mkdir, open, realpath } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { AUDIT_RECORD_VERSION, type AuditEntry, type AuditRecord } from './audit-entry.js'
import { AuditError, toAuditError } from './audit-error.js'
import { resolveActor, resolveAuditPath } from './audit-location.js'
import { ChainVerifier, decodeLine, type VerifyReport } from './chain-verifier.js'
import { withFileLock } from './file-lock.js'
import { GENESIS_HASH, hashRecord } from './hash-chain.js'
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

/** A lock not refreshed for this long belongs to a dead process (proper-lockfile refreshes at half of it). */
const STALE_LOCK_MS = 10_000
const DEFAULT_LOCK_TIMEOUT_MS = 20_000

/**
 * The file as this log left it after its last append, with that append's last hash and seq. When the
 * file (device, inode, size, mtime and ctime, to the nanosecond) is still exactly so under the lock,
 * nobody wrote it since, and its last line is known without reading it.
 */
interface KnownTail {
  readonly dev: bigint
  readonly ino: bigint
  readonly size: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
  readonly hash: string
  readonly seq: number
}

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
  #known: KnownTail | undefined

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
   * recorded whole or not at all.
   *
   * Fails with an {@link AuditError} when an entry is invalid (`EINVALID`), the file cannot be
   * written (`EISDIR`, `ENOTDIR`, `EACCES`, `ENOSPC`, ...), another process holds the lock past
   * `lockTimeoutMs` (`ELOCKED`), or the file's last line is damaged (`ETAIL`). Then nothing was
   * recorded, and gated work must not run. Never throws.
   */
  append(entries: AuditEntry | readonly AuditEntry[]): ResultAsync<readonly AuditRecord[], AuditError> {
    const list: readonly AuditEntry[] = isEntryList(entries) ? entries : [entries]
    return new ResultAsync(this.#append(list).catch((error: unknown) => err(toAuditError(error, this.path, 'write'))))
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
   * record's hash. A broken chain is an `Ok` report with `ok: false` and the first bad line; an
   * `Err` means the file could not be read. A missing file is an empty, valid log. Never throws.
   *
   * @example
   * ```ts
   * const report = await log.verify()
   * if (report.isErr()) throw report.error // the file could not be read
   * console.log(report.value.ok ? `ok: ${report.value.records} records` : report.value.reason)
   * ```
   */
  verify(): ResultAsync<VerifyReport, AuditError> {
    return new ResultAsync(this.#verify().catch((error: unknown) => err(toAuditError(error, this.path, 'read'))))
  }

  async #append(entries: readonly AuditEntry[]): Promise<Result<readonly AuditRecord[], AuditError>> {
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

    const directory = dirname(this.path)
    // Usually the directory exists: open the file and resolve the directory at once. On any failure,
    // the original sequence (make the directory, resolve it, open the file), with its errors.
    const opened = (await openLogFile(this.path, directory)) ?? (await createAndOpen(this.path, directory))
    // Lock the real directory, so two spellings of one path (a symlinked directory) share the lock.
    const target = join(opened.realDirectory, basename(this.path))
    const handle = opened.handle
    try {
      // A device or a pipe would swallow records (/dev/null) or block: refuse it before locking.
      const stats = await handle.stat()
      if (!stats.isFile()) return err(this.#notAFile(stats.isDirectory()))
      const settings = { timeoutMs: this.#lockTimeoutMs, staleMs: STALE_LOCK_MS, path: this.path }
      return await withFileLock(target, settings, async (lock) => {
        const known = this.#known
        this.#known = undefined
        const stat = await handle.stat({ bigint: true })
        const size = Number(stat.size)
        let prevHash = GENESIS_HASH
        let seq = 0
        if (known !== undefined && sameFile(known, stat)) {
          prevHash = known.hash
          seq = known.seq
        } else {
          const tail = await readTail(handle, size)
          if (tail.kind !== 'empty') {
            const last =
              tail.kind === 'line' ? decodeLine({ bytes: tail.bytes, terminated: true, overflow: false }) : undefined
            if (last === undefined || !last.ok)
              return err(this.#damagedTail(last?.ok === false ? last.detail : tail.kind))
            prevHash = last.record.hash
            seq = last.record.seq
          }
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
        if (lock.compromised !== undefined) return err(this.#lockLost(lock.compromised, false))
        await appendAll(handle, data, size, this.#durable)
        if (size === 0 && this.#durable) await syncDirectory(directory)
        if (lock.compromised !== undefined) return err(this.#lockLost(lock.compromised, true))
        const after = await handle.stat({ bigint: true })
        // Still under the lock: the file is ours plus our lines, unless something wrote without the lock.
        if (after.size === stat.size + BigInt(data.length) && after.ino === stat.ino && after.dev === stat.dev) {
          this.#known = {
            dev: after.dev,
            ino: after.ino,
            size: after.size,
            mtimeNs: after.mtimeNs,
            ctimeNs: after.ctimeNs,
            hash: prevHash,
            seq,
          }
        }
        return ok(records)
      })
    } finally {
      await handle.close().catch(() => undefined)
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

  async #verify(): Promise<Result<VerifyReport, AuditError>> {
    const verifier = new ChainVerifier()
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
        'evidence, and move it aside to start a new log.',
      this.path,
      { code: 'ETAIL' },
    )
  }

  #lockLost(cause: Error, written: boolean): AuditError {
    return new AuditError(
      written
        ? `the lock on the audit log ${this.path} was lost while writing; another process may have written at ` +
            `the same time. Run \`ddl audit verify --log ${this.path}\`.`
        : `the lock on the audit log ${this.path} was lost before writing; nothing was recorded. Retry.`,
      this.path,
      { cause, code: 'ECOMPROMISED' },
    )
  }
}

function sameFile(known: KnownTail, stat: BigIntStats): boolean {
  return (
    stat.size === known.size &&
    stat.ino === known.ino &&
    stat.dev === known.dev &&
    stat.mtimeNs === known.mtimeNs &&
    stat.ctimeNs === known.ctimeNs
  )
}

/**
 * Opens the log for appending (mode 0600 when new) and resolves its directory's real path, both at
 * once. Undefined on any failure (the caller then takes the slow path, which reports it).
 */
async function openLogFile(
  path: string,
  directory: string,
): Promise<{ readonly handle: FileHandle; readonly realDirectory: string } | undefined> {
  const [real, opened] = await Promise.allSettled([realpath(directory), open(path, 'a+', 0o600)])
  if (real.status === 'fulfilled' && opened.status === 'fulfilled')
    return { handle: opened.value, realDirectory: real.value }
  if (opened.status === 'fulfilled') await opened.value.close().catch(() => undefined)
  return undefined
}

/** Makes the directory (mode 0700) if missing, resolves it, opens the log: one after the other. */
async function createAndOpen(
  path: string,
  directory: string,
): Promise<{ readonly handle: FileHandle; readonly realDirectory: string }> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw code === 'EEXIST' ? Object.assign(new Error('a parent is a file'), { code: 'ENOTDIR', cause: error }) : error
  }
  const realDirectory = await realpath(directory)
  const handle = await open(path, 'a+', 0o600)
  return { handle, realDirectory }
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
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined)
  if (handle === undefined) return
  try {
    await handle.sync()
  } catch {
    // EINVAL / EISDIR on systems without directory fsync.
  } finally {
    await handle.close().catch(() => undefined)
  }
}

function isEntryList(entries: AuditEntry | readonly AuditEntry[]): entries is readonly AuditEntry[] {
  return Array.isArray(entries)
}

function isTrue(value: string | undefined): boolean {
  return value === '1' || value?.toLowerCase() === 'true'
}
