import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { registerExec } from '../src/commands/exec.js'
import { registerUndo } from '../src/commands/undo.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('cliundo')
let dir = ''
let auditPath = ''

async function ddl(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => '',
    env: { DDL_DATABASE_URL: database.url, DDL_AUDIT_LOG: auditPath },
    cwd: dir,
    color: false,
  }
  const code = await run(argv, { io, exitCode: 0 }, [registerExec, registerUndo])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

const ids = () =>
  withClient(database.url, async (c) => (await c.query('SELECT id FROM items ORDER BY id')).rows.map((r) => r.id))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-undo-'))
  auditPath = join(dir, 'audit.jsonl')
  await withClient(database.url, (c) =>
    c.query('CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 5)'),
  )
})

describe('ddl undo', () => {
  it('gives the undo id in ddl exec --json, lists it, and puts the rows back', async () => {
    const exec = await ddl(['exec', 'DELETE FROM items WHERE id > 2', '--confirm', '--json'])
    expect(exec.code).toBe(0)
    const id = JSON.parse(exec.stdout).result.undo.id as string
    expect(id).toMatch(/^u[0-9a-f]{12}$/)
    expect(await ids()).toEqual([1, 2])

    const list = await ddl(['undo', '--list', '--json'])
    expect(JSON.parse(list.stdout).result[0]).toMatchObject({ id, rows: { '"public"."items"': 3 } })
    const text = await ddl(['undo', '--list'])
    expect(text.stdout).toContain(`${id}  `)
    expect(text.stdout).toContain('line 1  DELETE FROM items WHERE id > 2')

    const refused = await ddl(['undo', id])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('--i-know-what-im-doing')
    expect(await ids()).toEqual([1, 2])

    const undone = await ddl(['undo', id, '--i-know-what-im-doing'])
    expect(undone.code).toBe(0)
    expect(undone.stdout).toContain(`Undid ${id}`)
    expect(await ids()).toEqual([1, 2, 3, 4, 5])
  })

  it('runs without a kept copy with --no-undo', async () => {
    const exec = await ddl(['exec', 'DELETE FROM items WHERE id = 5', '--confirm', '--no-undo', '--json'])
    expect(exec.code).toBe(0)
    expect(JSON.parse(exec.stdout).result.undo).toBeUndefined()
  })

  it('purges kept copies older than an age, and refuses a malformed age', async () => {
    expect((await ddl(['undo', '--purge', '--older-than', 'soon'])).code).toBe(2)
    const purged = await ddl(['undo', '--purge', '--older-than', '0s', '--json'])
    expect(purged.code).toBe(0)
    expect(JSON.parse(purged.stdout).result.purged.length).toBeGreaterThan(0)
    expect((await ddl(['undo', '--list'])).stdout).toBe('Nothing is kept for undo.\n')
  })
})
