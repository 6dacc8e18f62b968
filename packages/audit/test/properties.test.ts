import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AUDIT_OUTCOMES, AUDIT_TIERS, type AuditEntry, AuditLog, redactSecrets } from '@ddl/audit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tempDirs } from './helpers.js'

const tempDir = tempDirs()

/** Text with the characters that stress JSON and SQL: quotes, newlines, controls, lone surrogates. */
const tricky = fc.constantFrom(
  "'",
  '"',
  '\\',
  '$$',
  '\n',
  '\r\n',
  '\u0000',
  '\u001f',
  '\u2028',
  '\ud800',
  '\udfff',
  'é',
  '😀',
)
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(tricky, fc.string({ maxLength: 3 })) }),
)

const entryArbitrary: fc.Arbitrary<AuditEntry> = fc.record(
  {
    project: fc.string({ minLength: 1, unit: 'grapheme' }),
    tier: fc.constantFrom(...AUDIT_TIERS),
    statement: text,
    flags: fc.record({
      confirm: fc.boolean(),
      iKnowWhatImDoing: fc.boolean(),
      dryRun: fc.boolean(),
      rehearse: fc.boolean(),
    }),
    outcome: fc.constantFrom(...AUDIT_OUTCOMES),
    runId: fc.uuid(),
    source: fc.string(),
    rowsAffected: fc.nat(),
    durationMs: fc.double({ min: 0, max: 1e9, noNaN: true }),
    sqlstate: fc.stringMatching(/^[0-9A-Z]{5}$/),
    error: text,
    actor: fc.string({ minLength: 1 }),
  },
  { requiredKeys: ['project', 'tier', 'statement', 'flags', 'outcome'] },
)

describe('audit log properties', () => {
  it('any sequence of entries, appended singly or in batches, verifies and reads back as appended', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(entryArbitrary, { minLength: 1, maxLength: 4 }), { maxLength: 6 }),
        async (batches) => {
          const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), durable: false })
          for (const batch of batches)
            (await log.append(batch.length === 1 ? (batch[0] as AuditEntry) : batch))._unsafeUnwrap()
          const all = batches.flat()
          const report = (await log.verify())._unsafeUnwrap()
          expect(report).toMatchObject({ ok: true, records: all.length })
          const records = (await log.read())._unsafeUnwrap()
          expect(records.map((r) => r.statement)).toEqual(all.map((e) => redactSecrets(e.statement)))
          expect(records.map((r) => [r.project, r.tier, r.outcome, r.flags, r.rowsAffected, r.durationMs])).toEqual(
            all.map((e) => [e.project, e.tier, e.outcome, e.flags, e.rowsAffected, e.durationMs]),
          )
        },
      ),
      { numRuns: 40 },
    )
  })

  it('any single-byte change in a record line fails verify at that line', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), durable: false })
    const samples = fc.sample(entryArbitrary, { numRuns: 6, seed: 42 })
    ;(await log.append(samples))._unsafeUnwrap()
    const original = await readFile(log.path)
    const lineStarts = [0]
    original.forEach((byte, index) => {
      if (byte === 0x0a && index < original.length - 1) lineStarts.push(index + 1)
    })
    const copy = join(await tempDir(), 'copy.jsonl')
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (offset, delta) => {
          const changed = Buffer.from(original)
          changed[offset] = ((original[offset] ?? 0) + delta) % 256
          await writeFile(copy, changed)
          const line = lineStarts.filter((start) => start <= offset).length
          const report = (await AuditLog.open({ path: copy }).verify())._unsafeUnwrap()
          expect(report).toMatchObject({ ok: false, line })
        },
      ),
      { numRuns: 300 },
    )
  })
})
