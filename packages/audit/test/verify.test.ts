import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuditLog, GENESIS_HASH, hashRecord } from '@ddl/audit'
import { describe, expect, it } from 'vitest'
import { entry, tempDirs } from './helpers.js'

const tempDir = tempDirs()

/** A log of five records, and its lines. */
async function fiveRecords(): Promise<{ log: AuditLog; lines: string[]; head: string }> {
  const log = AuditLog.open({ path: join(await tempDir(), 'audit.jsonl') })
  const records = (
    await log.append(Array.from({ length: 5 }, (_, i) => entry({ statement: `CREATE TABLE t${i + 1} (id int)` })))
  )._unsafeUnwrap()
  const lines = (await readFile(log.path, 'utf8')).split('\n').slice(0, -1)
  return { log, lines, head: records[4]?.hash ?? '' }
}

async function rewrite(log: AuditLog, lines: readonly string[]): Promise<void> {
  await writeFile(log.path, lines.map((line) => `${line}\n`).join(''))
}

function at(lines: readonly string[], index: number): string {
  return lines[index] ?? ''
}

describe('AuditLog.verify', () => {
  it('reports the record count and the head hash of an intact log', async () => {
    const { log, head } = await fiveRecords()
    expect((await log.verify())._unsafeUnwrap()).toEqual({ ok: true, records: 5, headHash: head })
  })

  it('reports an empty, valid log when the file does not exist', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'none.jsonl') })
    expect((await log.verify())._unsafeUnwrap()).toEqual({ ok: true, records: 0, headHash: GENESIS_HASH })
  })

  it('catches an edited record and names its line', async () => {
    const { log, lines } = await fiveRecords()
    lines[2] = at(lines, 2).replace('CREATE TABLE t3', 'CREATE TABLE t9')
    await rewrite(log, lines)
    expect((await log.verify())._unsafeUnwrap()).toEqual({
      ok: false,
      line: 3,
      problem: 'edited',
      reason: 'line 3: was edited: its hash does not match its content',
      records: 5,
    })
  })

  it('catches an edited record whose hash was recomputed, at the next line', async () => {
    const { log, lines } = await fiveRecords()
    const forged = { ...JSON.parse(at(lines, 2)), statement: 'CREATE TABLE t9 (id int)' }
    lines[2] = JSON.stringify({ ...forged, hash: hashRecord(forged) })
    await rewrite(log, lines)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 4, problem: 'chain' })
  })

  it('catches a deleted record', async () => {
    const { log, lines } = await fiveRecords()
    lines.splice(2, 1)
    await rewrite(log, lines)
    expect((await log.verify())._unsafeUnwrap()).toEqual({
      ok: false,
      line: 3,
      problem: 'sequence',
      reason: 'line 3: has seq 4 where 3 was expected: a record was deleted, inserted or moved',
      records: 4,
    })
  })

  it('catches a deleted first record', async () => {
    const { log, lines } = await fiveRecords()
    await rewrite(log, lines.slice(1))
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 1, problem: 'sequence' })
  })

  it('catches reordered records', async () => {
    const { log, lines } = await fiveRecords()
    ;[lines[1], lines[2]] = [at(lines, 2), at(lines, 1)]
    await rewrite(log, lines)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 2, problem: 'sequence' })
  })

  it('catches an inserted copy of a record', async () => {
    const { log, lines } = await fiveRecords()
    lines.splice(2, 0, at(lines, 1))
    await rewrite(log, lines)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 3, problem: 'sequence' })
  })

  it('catches an inserted record forged with the right seq, prevHash and hash, at the line after it', async () => {
    const { log, lines } = await fiveRecords()
    const before = JSON.parse(at(lines, 1))
    const forged = { ...before, seq: 3, statement: 'GRANT ALL ON t1 TO mallory', prevHash: before.hash }
    delete forged.hash
    lines.splice(2, 0, JSON.stringify({ ...forged, hash: hashRecord(forged) }))
    await rewrite(log, lines)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 4, problem: 'sequence' })
  })

  it('shows a cut-off end as a different head hash and count', async () => {
    const { log, lines, head } = await fiveRecords()
    await rewrite(log, lines.slice(0, 4))
    // The chain alone still holds; only a head noted elsewhere shows the cut (head-note.test.ts).
    const report = (await log.verify({ headNote: false }))._unsafeUnwrap()
    expect(report).toEqual({ ok: true, records: 4, headHash: JSON.parse(at(lines, 3)).hash })
    expect(report.ok && report.headHash).not.toBe(head)
    // With the head note the appends left beside the log, the cut fails verify.
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, problem: 'cut', line: 5 })
  })

  it('catches a last line cut short', async () => {
    const { log, lines } = await fiveRecords()
    await writeFile(log.path, `${lines.slice(0, 4).join('\n')}\n${at(lines, 4).slice(0, 40)}`)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 5, problem: 'incomplete' })
  })

  it('catches a line that is not JSON, an empty line and a line with an extra field', async () => {
    for (const [bad, detail] of [
      ['garbage', 'it is not valid JSON'],
      ['', 'it is empty'],
      [`${at((await fiveRecords()).lines, 2).slice(0, -1)},"note":"x"}`, 'unknown field "note"'],
    ] as const) {
      const { log, lines } = await fiveRecords()
      lines[2] = bad
      await rewrite(log, lines)
      expect((await log.verify())._unsafeUnwrap()).toEqual({
        ok: false,
        line: 3,
        problem: 'malformed',
        reason: `line 3: not an audit record: ${detail}`,
        records: 5,
      })
    }
  })

  it('catches an edit that keeps the JSON value but changes its bytes', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'audit.jsonl') })
    await log.append(entry({ statement: 'SELECT 1\u001f' }))
    const text = await readFile(log.path, 'utf8')
    expect(text).toContain('\\u001f')
    await writeFile(log.path, text.replace('\\u001f', '\\u001F'))
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, line: 1, problem: 'edited' })
  })

  it('goes on appending after a verified log, continuing its chain', async () => {
    const { log, head } = await fiveRecords()
    const [next] = (await log.append(entry()))._unsafeUnwrap()
    expect(next).toMatchObject({ seq: 6, prevHash: head })
  })
})
