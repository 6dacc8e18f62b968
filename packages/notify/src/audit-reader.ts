import { open } from 'node:fs/promises'
import type { Cursor } from './delivery-state.js'
import type { ReadRecord } from './derive-events.js'

/** The records after a cursor, the cursor after them, and what a person should know. */
export interface ReadAfter {
  readonly records: readonly ReadRecord[]
  readonly cursor: Cursor | undefined
  readonly note?: string
}

interface Line {
  readonly record: ReadRecord
  readonly end: number
}

/**
 * Reads the records written after `cursor` (from its byte offset; only complete lines, so a record
 * being written is read next time). Without a cursor, or when the log no longer continues it (moved
 * aside, rewritten), the records stamped at or after `since` are new. Never reads past the file's
 * end at the time of the call.
 */
export async function readRecordsAfter(
  auditPath: string,
  cursor: Cursor | undefined,
  since: string,
): Promise<ReadAfter> {
  if (cursor !== undefined) {
    const tail = await readLines(auditPath, cursor.offset)
    const first = tail[0]
    if (first === undefined) {
      // Nothing new, or the log shrank (moved aside): only a longer file is checked again.
      const size = await fileSize(auditPath)
      if (size >= cursor.offset) return { records: [], cursor }
    } else if (first.record.seq === cursor.seq + 1 && first.record.prevHash === cursor.hash) {
      return { records: tail.map((l) => l.record), cursor: cursorOf(tail, cursor) }
    }
  }
  const all = await readLines(auditPath, 0)
  if (cursor !== undefined) {
    const at = all.findIndex((l) => l.record.seq === cursor.seq && l.record.hash === cursor.hash)
    if (at >= 0) {
      const after = all.slice(at + 1)
      return { records: after.map((l) => l.record), cursor: cursorOf(after, { ...cursor, offset: all[at]?.end ?? 0 }) }
    }
  }
  const fresh = all.filter((l) => l.record.time >= since)
  const older = all.filter((l) => l.record.time < since)
  const base = older[older.length - 1]
  const start: Cursor | undefined =
    base !== undefined ? { seq: base.record.seq, hash: base.record.hash, offset: base.end } : undefined
  return {
    records: fresh.map((l) => l.record),
    cursor: cursorOf(fresh, start),
    ...(cursor !== undefined
      ? { note: `the audit log ${auditPath} no longer continues from record ${cursor.seq}; reading from ${since}` }
      : {}),
  }
}

function cursorOf(lines: readonly Line[], fallback: Cursor | undefined): Cursor | undefined {
  const last = lines[lines.length - 1]
  return last === undefined ? fallback : { seq: last.record.seq, hash: last.record.hash, offset: last.end }
}

async function fileSize(path: string): Promise<number> {
  const handle = await open(path, 'r').catch(() => undefined)
  if (handle === undefined) return 0
  try {
    return (await handle.stat()).size
  } finally {
    await handle.close()
  }
}

async function readLines(path: string, offset: number): Promise<Line[]> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (handle === undefined) return []
  let data: Buffer
  try {
    const size = (await handle.stat()).size
    if (size <= offset) return []
    data = Buffer.alloc(size - offset)
    let read = 0
    while (read < data.length) {
      const { bytesRead } = await handle.read(data, read, data.length - read, offset + read)
      if (bytesRead === 0) break
      read += bytesRead
    }
    data = data.subarray(0, read)
  } finally {
    await handle.close()
  }
  const lines: Line[] = []
  let start = 0
  for (;;) {
    const newline = data.indexOf(0x0a, start)
    if (newline < 0) break
    const record = parseLine(data.subarray(start, newline).toString('utf8'))
    if (record !== undefined) lines.push({ record, end: offset + newline + 1 })
    start = newline + 1
  }
  return lines
}

function parseLine(text: string): ReadRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<ReadRecord>
    if (
      typeof value.seq !== 'number' ||
      typeof value.hash !== 'string' ||
      typeof value.prevHash !== 'string' ||
      typeof value.time !== 'string' ||
      typeof value.actor !== 'string' ||
      typeof value.project !== 'string' ||
      typeof value.statement !== 'string' ||
      (value.tier !== 'safe' && value.tier !== 'cautious' && value.tier !== 'destructive') ||
      typeof value.outcome !== 'string'
    )
      return undefined
    return value as ReadRecord
  } catch {
    return undefined
  }
}
