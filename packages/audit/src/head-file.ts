import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs'

/**
 * The head note: `<log>.head`, one fixed-length line naming the log's last record as of the last
 * append, `ddl-audit-head v1 <seq, 16 digits> <hash>\n`. Written after each append (after the log's
 * fsync, so it never names a record the log could lose), read by verify and by the next append: a
 * log that ends before its noted head had records removed from its end.
 *
 * Fixed length, so each note overwrites the last with one `pwrite` at offset 0 and no truncation.
 */
export interface HeadNote {
  readonly seq: number
  readonly hash: string
}

const PREFIX = 'ddl-audit-head v1 '
const SEQ_DIGITS = 16
/** The note's length in bytes. */
export const HEAD_NOTE_BYTES = PREFIX.length + SEQ_DIGITS + 1 + 64 + 1
const NOTE = /^ddl-audit-head v1 (\d{16}) ([0-9a-f]{64})\n$/

/** The head note's path beside the log. */
export function headPath(logPath: string): string {
  return `${logPath}.head`
}

/** The bytes of a note. */
export function formatHead(note: HeadNote): Buffer {
  return Buffer.from(`${PREFIX}${String(note.seq).padStart(SEQ_DIGITS, '0')} ${note.hash}\n`, 'latin1')
}

/** A note read back, or undefined when there is none, or a string saying why the file is not one. */
export function parseHead(bytes: Buffer): HeadNote | string {
  const match = NOTE.exec(bytes.toString('latin1'))
  if (match === null) return 'it is not a head note'
  return { seq: Number(match[1]), hash: match[2] as string }
}

/** Overwrites the note beside `logPath` in place (made with mode 0600): not truncated, one `pwrite`. */
export function writeHead(logPath: string, note: HeadNote): void {
  const fd = openSync(headPath(logPath), constants.O_WRONLY | constants.O_CREAT, 0o600)
  try {
    const data = formatHead(note)
    writeSync(fd, data, 0, data.length, 0)
  } finally {
    closeSync(fd)
  }
}

/** Reads the note beside `logPath`: undefined when there is none, a string when it is damaged. */
export function readHead(logPath: string): HeadNote | string | undefined {
  let fd: number
  try {
    fd = openSync(headPath(logPath), 'r')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const buffer = Buffer.alloc(HEAD_NOTE_BYTES + 1)
    const n = readSync(fd, buffer, 0, buffer.length, 0)
    if (n === 0) return undefined
    return parseHead(buffer.subarray(0, n))
  } finally {
    closeSync(fd)
  }
}
