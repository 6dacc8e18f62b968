import { randomBytes } from 'node:crypto'
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NotifyEvent } from '@ddl/notify'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { closedPort, type Receiver, startReceiver } from '../../../test/support/http-receiver.js'
import { registerAudit } from '../src/commands/audit.js'
import { registerExec } from '../src/commands/exec.js'
import { registerNotify } from '../src/commands/notify.js'
import type { Io } from '../src/io.js'
import { type Register, run } from '../src/program.js'

const database = testDatabase('clinotify')
const password = inject('databasePassword')
const secret = `whsec_${randomBytes(24).toString('base64')}`
let receiver: Receiver

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function workspace(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-cli-notify-'))
  const auditPath = join(dir, 'audit.jsonl')
  const env = {
    DDL_DATABASE_URL: database.url,
    DDL_AUDIT_LOG: auditPath,
    DDL_NOTIFY_URL: url,
    DDL_NOTIFY_SECRET: secret,
  }
  const ddl = async (argv: readonly string[], registers: readonly Register[]): Promise<Outcome> => {
    const out: string[] = []
    const errors: string[] = []
    const io: Io = {
      stdout: (text) => out.push(text),
      stderr: (text) => errors.push(text),
      readStdin: async () => '',
      env,
      cwd: dir,
      color: false,
    }
    const code = await run(argv, { io, exitCode: 0 }, registers)
    return { code, stdout: out.join(''), stderr: errors.join('') }
  }
  return { dir, auditPath, ddl }
}

/** Every message the receiver got, verified with standardwebhooks (throws on a bad signature). */
function verified(from: Receiver): { type: string; data: NotifyEvent }[] {
  const wh = new Webhook(secret)
  return from.received.map(
    (m) => wh.verify(m.body, m.headers as Record<string, string>) as { type: string; data: NotifyEvent },
  )
}

beforeAll(async () => {
  receiver = await startReceiver()
  await withClient(database.url, (c) =>
    c.query('CREATE TABLE old_backup (id int); INSERT INTO old_backup VALUES (1), (2)'),
  )
})

afterAll(async () => {
  await receiver.close()
})

describe('ddl exec with a notification sink', () => {
  it('sends one signed work.committed event for DROP TABLE with the override, and no password', async () => {
    const { ddl } = workspace(receiver.url)
    const before = receiver.received.length
    const r = await ddl(['exec', 'DROP TABLE old_backup', '--i-know-what-im-doing'], [registerExec])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const events = verified(receiver).slice(before)
    expect(events.map((e) => e.type)).toEqual(['work.committed'])
    const data = events[0]?.data
    expect(data).toMatchObject({ type: 'work.committed', project: 'default', tier: 'destructive', source: 'cli' })
    expect(data?.statements).toEqual([{ sql: 'DROP TABLE old_backup', tier: 'destructive' }])
    // The dropped table was kept (moved into ddl_undo): the event carries the id `ddl undo` takes.
    expect(data?.undo).toMatch(/\S/)
    expect(r.stdout).toContain(String(data?.undo))
    for (const m of receiver.received) {
      expect(m.body).not.toContain(password)
      expect(m.body).not.toContain(secret.slice('whsec_'.length))
    }
  })

  it('sends nothing for destructive work that was rolled back, nor for safe work', async () => {
    const { ddl } = workspace(receiver.url)
    await ddl(['exec', 'CREATE TABLE kept (id int)'], [registerExec])
    const before = receiver.received.length
    const r = await ddl(['exec', 'DROP TABLE kept; DROP TABLE missing_table', '--i-know-what-im-doing'], [registerExec])
    expect(r.code).toBe(1)
    const retried = await ddl(['notify', '--retry'], [registerNotify])
    expect(retried.code).toBe(0)
    expect(receiver.received.length).toBe(before)
  })

  it('keeps the exit code of a run whose sink is dead, and ddl notify shows and retries the delivery', async () => {
    const port = await closedPort()
    const { ddl, dir } = workspace(`http://127.0.0.1:${port}/hook`)
    await ddl(['exec', 'CREATE TABLE doomed (id int)'], [registerExec])
    const r = await ddl(['exec', 'DROP TABLE doomed', '--i-know-what-im-doing'], [registerExec])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(
      /^ddl exec: notification not delivered \(will retry\): work\.committed evt_\w+ to webhook \(127\.0\.0\.1:\d+\): connection refused \(attempt \d\)\n$/,
    )
    const status = await ddl(['notify', '--status'], [registerNotify])
    expect(status.code).toBe(1)
    expect(status.stdout).toContain('Owed: 1')
    expect(status.stdout).toMatch(
      /pending +work\.committed +evt_\w+ to webhook \(127\.0\.0\.1:\d+\): \d attempts?, last: connection refused/,
    )
    expect(status.stdout).not.toContain(secret.slice('whsec_'.length))
    expect(readFileSync(join(dir, 'audit.jsonl.notify.json'), 'utf8')).not.toContain(password)
    const retry = await ddl(['notify', '--retry'], [registerNotify])
    expect(retry.code).toBe(1)
    expect(retry.stdout).toBe('Delivered 0; 1 pending, 0 failed.\n')
  })
})

describe('ddl audit verify with a notification sink', () => {
  it('sends audit.verify_failed when the chain is broken, and the exit code stays 1', async () => {
    const { ddl, auditPath } = workspace(receiver.url)
    await ddl(['exec', 'CREATE TABLE v1 (id int)'], [registerExec])
    const lines = readFileSync(auditPath, 'utf8').split('\n')
    writeFileSync(auditPath, `${lines[0]?.replace('v1', 'v2')}\n${lines.slice(1).join('\n')}`)
    appendFileSync(auditPath, '')
    const before = receiver.received.length
    const r = await ddl(['audit', 'verify'], [registerAudit])
    expect(r.code).toBe(1)
    const events = verified(receiver).slice(before)
    expect(events.map((e) => e.type)).toEqual(['audit.verify_failed'])
    expect(events[0]?.data.reason).toMatch(/line 1/)
  })
})
