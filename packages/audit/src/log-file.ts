import { fsyncSync, ftruncateSync, readSync, writeSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/** Lines longer than this are not records (the reader stops collecting them). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024
const CHUNK = 64 * 1024
const NEWLINE = 0x0a

/** One line of the file, without its newline. */
export interface RawLine {
  readonly bytes: Buffer
  /** False for the last line when the file does not end with a newline. */
  readonly terminated: boolean
  /** The line was longer than {@link MAX_LINE_BYTES}; `bytes` holds only its start. */
  readonly overflow: boolean
}

/** Streams the lines of an open file from its start, in bounded memory per line. */
export async function* readLines(handle: FileHandle): AsyncGenerator<RawLine> {
  const chunk = Buffer.allocUnsafe(CHUNK)
  let parts: Buffer[] = []
  let size = 0
  let overflow = false
  let position = 0
  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, CHUNK, position)
    if (bytesRead === 0) break
    position += bytesRead
    const data = chunk.subarray(0, bytesRead)
    let from = 0
    while (from < data.length) {
      const newline = data.indexOf(NEWLINE, from)
      const end = newline === -1 ? data.length : newline
      if (!overflow) {
        if (size + (end - from) > MAX_LINE_BYTES) overflow = true
        else {
          parts.push(Buffer.from(data.subarray(from, end)))
          size += end - from
        }
      }
      if (newline === -1) break
      yield { bytes: Buffer.concat(parts, size), terminated: true, overflow }
      parts = []
      size = 0
      overflow = false
      from = newline + 1
    }
  }
  if (size > 0 || overflow) yield { bytes: Buffer.concat(parts, size), terminated: false, overflow }
}

/** The end of the file, as the appender needs it. */
export type Tail =
  | { readonly kind: 'empty' }
  | { readonly kind: 'line'; readonly bytes: Buffer }
  | { readonly kind: 'partial' }
  | { readonly kind: 'too-long' }

/**
 * Reads only the last line of the file open as `fd`, of `size` bytes, scanning backwards from the end
 * in chunks, so that appending costs the same however long the log is.
 */
export function readTail(fd: number, size: number): Tail {
  if (size === 0) return { kind: 'empty' }
  const last = Buffer.alloc(1)
  readSync(fd, last, 0, 1, size - 1)
  if (last[0] !== NEWLINE) return { kind: 'partial' }
  const end = size - 1
  const parts: Buffer[] = []
  let position = end
  while (position > 0) {
    if (end - position > MAX_LINE_BYTES) return { kind: 'too-long' }
    const start = Math.max(0, position - CHUNK)
    const buffer = Buffer.alloc(position - start)
    readFully(fd, buffer, start)
    const newline = buffer.lastIndexOf(NEWLINE)
    if (newline !== -1) {
      parts.unshift(buffer.subarray(newline + 1))
      return { kind: 'line', bytes: Buffer.concat(parts) }
    }
    parts.unshift(buffer)
    position = start
  }
  return { kind: 'line', bytes: Buffer.concat(parts) }
}

/** Keeps SIGXFSZ from killing the process (see {@link appendAll}). */
function ignoreSignal(): void {}
let signalGuarded = false

/**
 * Appends `data` to the file open as `fd` (with `O_APPEND`) with as few `write` calls as the system
 * allows (one, for a regular file), then flushes it to disk when `durable`. On any failure the file is
 * cut back to `sizeBefore`, so a partial line never stays behind. The caller holds the lock.
 *
 * A write past the process's file-size limit (`ulimit -f`) is cut short, and the next one raises
 * SIGXFSZ. Node ignores that signal, so the write fails with `EFBIG` and the file is cut back; but a
 * module that once listened for it and stopped (signal-exit does, and proper-lockfile used it) leaves
 * its default action, which kills the process mid-write and leaves half a line that blocks every later
 * append. So the first append registers a listener that does nothing, for the life of the process:
 * what Node itself intends, kept whatever other modules do.
 */
export function appendAll(fd: number, data: Buffer, sizeBefore: number, durable: boolean): void {
  if (!signalGuarded && process.platform !== 'win32') {
    signalGuarded = true
    process.on('SIGXFSZ', ignoreSignal)
  }
  try {
    let written = 0
    while (written < data.length) {
      const bytesWritten = writeSync(fd, data, written, data.length - written)
      if (bytesWritten <= 0) throw Object.assign(new Error('the file accepted no more bytes'), { code: 'ENOSPC' })
      written += bytesWritten
    }
    if (durable) fsyncSync(fd)
  } catch (error) {
    try {
      ftruncateSync(fd, sizeBefore)
    } catch {
      // Nothing more can be done; verify will name the line.
    }
    throw error
  }
}

function readFully(fd: number, buffer: Buffer, position: number): void {
  let offset = 0
  while (offset < buffer.length) {
    const bytesRead = readSync(fd, buffer, offset, buffer.length - offset, position + offset)
    if (bytesRead === 0) throw Object.assign(new Error('the file shrank while it was read'), { code: 'ESHRUNK' })
    offset += bytesRead
  }
}
