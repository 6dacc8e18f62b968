import { execFile, execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { AuditLog } from '@ddl/audit'
import { beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './helpers.js'

const run = promisify(execFile)
const tempDir = tempDirs()
const packageDir = resolve(import.meta.dirname, '..')
const worker = join(import.meta.dirname, 'fixtures', 'append-worker.mjs')

// The workers import packages/audit/dist: build it, so they never run stale code (`pnpm test` has
// built it already, and then this is a quick no-op).
beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', packageDir], { stdio: 'inherit' })
}, 120_000)

describe('several processes appending at once', () => {
  it('keeps one valid chain after 10 concurrent writer processes', async () => {
    const path = join(await tempDir(), 'audit.jsonl')
    const workers = 10
    const appends = 20
    const startAt = String(Date.now() + 1500)
    await Promise.all(
      Array.from({ length: workers }, (_, id) =>
        run(process.execPath, [worker, 'concurrent', path, String(id), String(appends), startAt]),
      ),
    )

    const log = AuditLog.open({ path })
    const perWorker = appends + (appends / 5) * 2 // every fifth append is a batch of three
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: workers * perWorker })

    const records = (await log.read())._unsafeUnwrap()
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: records.length }, (_, i) => i + 1))
    for (let id = 0; id < workers; id++) {
      const mine = records.filter((r) => r.actor === `worker-${id}`).map((r) => r.statement)
      expect(mine).toHaveLength(perWorker)
      // Each worker's records appear in the order it appended them, a batch's three together.
      const expected: string[] = []
      for (let i = 0; i < appends; i++) {
        if (i % 5 === 4) expected.push(`A ${id} ${i}`, `B ${id} ${i}`, `C ${id} ${i}`)
        else expected.push(`S ${id} ${i}`)
      }
      expect(mine).toEqual(expected)
      const firstOfBatch = records.findIndex((r) => r.statement === `A ${id} 4`)
      expect(records.slice(firstOfBatch, firstOfBatch + 3).map((r) => r.statement)).toEqual([
        `A ${id} 4`,
        `B ${id} 4`,
        `C ${id} 4`,
      ])
    }
    expect((await readFile(path, 'utf8')).endsWith('}\n')).toBe(true)
  }, 60_000)

  it('leaves no partial line when the file may not grow (EFBIG), and the chain stays valid', async () => {
    const path = join(await tempDir(), 'audit.jsonl')
    // `ulimit -f 8`: at most 8 blocks (4 KiB or 8 KiB, by shell); the second record needs 20 KiB.
    const { stdout } = await run('/bin/sh', [
      '-c',
      `ulimit -f 8 && exec "${process.execPath}" "${worker}" too-large "${path}" 0 20000 0`,
    ])
    expect(JSON.parse(stdout)).toEqual({ small: true, large: 'EFBIG' })
    const text = await readFile(path, 'utf8')
    expect(text.split('\n')).toHaveLength(2)
    expect((await AuditLog.open({ path }).verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 1 })
  })
})
