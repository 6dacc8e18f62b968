import { createHash } from 'node:crypto'
import type { AuditRecord } from './audit-entry.js'

/** The `prevHash` of a file's first record: 64 zeros. Also the head of an empty log. */
export const GENESIS_HASH = '0'.repeat(64)

/** A JSON value as the canonical form sees it. */
type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json | undefined }

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth, no whitespace, and
 * `undefined` members left out: the same value always gives the same text.
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map((item: Json) => canonicalJson(item)).join(',')}]`
  const object = value as { readonly [key: string]: Json | undefined }
  const members: string[] = []
  for (const key of Object.keys(object).sort()) {
    const member = object[key]
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`)
  }
  return `{${members.join(',')}}`
}

/**
 * The hash a record must carry: SHA-256 (lower-case hex) over the canonical JSON ({@link canonicalJson})
 * of the record without its `hash` field. Never throws.
 *
 * @example
 * ```ts
 * hashRecord(record) === record.hash // true for every record the log wrote
 * ```
 */
export function hashRecord(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord
  return createHash('sha256')
    .update(canonicalJson(rest as unknown as Json), 'utf8')
    .digest('hex')
}
