import type { AuditRecord } from './audit-entry.js'
import { GENESIS_HASH, hashRecord } from './hash-chain.js'
import type { HeadNote } from './head-file.js'
import type { RawLine } from './log-file.js'
import { parseRecord, serializeRecord } from './record-codec.js'

/**
 * Why a line breaks the chain.
 *
 * - `incomplete`: the file ends without a newline (a write cut short, a truncation, an edit).
 * - `malformed`: the line is not a record (not UTF-8, not JSON, a field missing or wrong).
 * - `edited`: the record's hash does not match its content, or its bytes are not what the log wrote.
 * - `sequence`: its `seq` is not the previous one plus 1 (a record deleted, inserted or moved).
 * - `chain`: its `prevHash` is not the previous record's hash (a record deleted, inserted or moved).
 * - `cut`: the log ends before a head noted elsewhere (the `<log>.head` note, or a hash given to
 *   verify), or has another record where it was: records were removed from its end, or it was replaced.
 */
export type VerifyProblem = 'incomplete' | 'malformed' | 'edited' | 'sequence' | 'chain' | 'cut'

/** Heads noted elsewhere that the chain must contain (see {@link AuditLog.verify}). */
export interface HeadChecks {
  /** The `<log>.head` note: record `seq` must exist and have this hash. */
  readonly note?: HeadNote
  /** A head hash noted earlier (say, printed by a past verify): some record must have it. */
  readonly hash?: string
}

/**
 * The result of {@link AuditLog.verify}.
 *
 * When `ok`, `headHash` is the hash of the last record ({@link GENESIS_HASH} for an empty log): note it
 * somewhere else, and a later truncation shows as a different head. When not `ok`, `line` (1-based)
 * is the first line that breaks the chain; nothing from it on can be trusted. `records` is the number
 * of lines in the file (0 in `line` when the `<log>.head` note itself is damaged).
 */
export type VerifyReport =
  | { readonly ok: true; readonly records: number; readonly headHash: string }
  | {
      readonly ok: false
      readonly line: number
      readonly problem: VerifyProblem
      readonly reason: string
      readonly records: number
    }

/** A line read as a record, or why it is not one. */
export type DecodedLine =
  | { readonly ok: true; readonly record: AuditRecord; readonly text: string }
  | { readonly ok: false; readonly problem: 'incomplete' | 'malformed'; readonly detail: string }

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Decodes one raw line into a record, checking only that it is well formed. */
export function decodeLine(raw: RawLine): DecodedLine {
  if (!raw.terminated) {
    return {
      ok: false,
      problem: 'incomplete',
      detail: 'it ends without a newline: a write was cut short, or the file was truncated or edited',
    }
  }
  if (raw.overflow) return { ok: false, problem: 'malformed', detail: 'it is longer than any record' }
  if (raw.bytes.length === 0) return { ok: false, problem: 'malformed', detail: 'it is empty' }
  let text: string
  try {
    text = utf8.decode(raw.bytes)
  } catch {
    return { ok: false, problem: 'malformed', detail: 'it is not valid UTF-8' }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, problem: 'malformed', detail: 'it is not valid JSON' }
  }
  const record = parseRecord(value)
  if (typeof record === 'string') return { ok: false, problem: 'malformed', detail: record }
  return { ok: true, record, text }
}

/** Checks lines one by one and remembers the first that breaks the chain. */
export class ChainVerifier {
  #lines = 0
  #prevHash = GENESIS_HASH
  #failure: { line: number; problem: VerifyProblem; reason: string } | undefined
  readonly #heads: HeadChecks
  /** The given head hash was seen (64 zeros, the empty log's head, always is). */
  #hashSeen: boolean

  constructor(heads: HeadChecks = {}) {
    this.#heads = heads
    this.#hashSeen = heads.hash === undefined || heads.hash === GENESIS_HASH
  }

  /** Feeds the next line of the file. */
  feed(raw: RawLine): void {
    this.#lines++
    if (this.#failure !== undefined) return
    const n = this.#lines
    const checked = this.#check(raw, n)
    if ('problem' in checked) {
      this.#failure = { line: n, problem: checked.problem, reason: `line ${n}: ${checked.reason}` }
      return
    }
    this.#prevHash = checked.hash
    if (checked.hash === this.#heads.hash) this.#hashSeen = true
    const note = this.#heads.note
    if (note !== undefined && note.seq === n && note.hash !== checked.hash) {
      this.#failure = {
        line: n,
        problem: 'cut',
        reason:
          `line ${n}: is not the record the head note names for it (hash ${note.hash}): records were ` +
          'removed from the end and others appended, or the log was replaced',
      }
    }
  }

  #check(
    raw: RawLine,
    n: number,
  ): { readonly hash: string } | { readonly problem: VerifyProblem; readonly reason: string } {
    const decoded = decodeLine(raw)
    if (!decoded.ok) return { problem: decoded.problem, reason: `not an audit record: ${decoded.detail}` }
    const { record, text } = decoded
    if (serializeRecord(record) !== text) {
      return { problem: 'edited', reason: 'was edited: its bytes are not what the log writes for that record' }
    }
    if (hashRecord(record) !== record.hash) {
      return { problem: 'edited', reason: 'was edited: its hash does not match its content' }
    }
    if (record.seq !== n) {
      return {
        problem: 'sequence',
        reason: `has seq ${record.seq} where ${n} was expected: a record was deleted, inserted or moved`,
      }
    }
    if (record.prevHash !== this.#prevHash) {
      return {
        problem: 'chain',
        reason:
          n === 1
            ? 'does not start the chain (its prevHash is not 64 zeros): records before it were removed'
            : `does not follow line ${n - 1} (its prevHash is not that record's hash): a record was deleted, inserted or moved`,
      }
    }
    return { hash: record.hash }
  }

  /** The verdict on every line fed so far. */
  report(): VerifyReport {
    const failure = this.#failure ?? this.#cutEnd()
    if (failure !== undefined) return { ok: false, ...failure, records: this.#lines }
    return { ok: true, records: this.#lines, headHash: this.#prevHash }
  }

  /** A whole chain that still ends before a noted head. */
  #cutEnd(): { line: number; problem: VerifyProblem; reason: string } | undefined {
    const line = this.#lines + 1
    const note = this.#heads.note
    if (note !== undefined && note.seq > this.#lines) {
      return {
        line,
        problem: 'cut',
        reason:
          `the log ends at record ${this.#lines}, but its head note names record ${note.seq}: ` +
          'records were removed from its end',
      }
    }
    if (!this.#hashSeen) {
      return {
        line,
        problem: 'cut',
        reason:
          `no record has the head hash ${this.#heads.hash}: records were removed from the end, ` +
          'or the log was replaced',
      }
    }
    return undefined
  }
}
