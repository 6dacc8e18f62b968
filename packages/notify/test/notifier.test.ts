import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditEntry, type AuditFlags, AuditLog } from '@ddl/audit'
import { deriveEvents, Notifier, type NotifyEvent, type ReadRecord, resolveSinks } from '@ddl/notify'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { closedPort, type Receiver, startReceiver } from '../../../test/support/http-receiver.js'

const secret = `whsec_${randomBytes(24).toString('base64')}`
const none: AuditFlags = { confirm: false, iKnowWhatImDoing: false, dryRun: false, rehearse: false }
const override: AuditFlags = { ...none, iKnowWhatImDoing: true }
const receivers: Receiver[] = []

afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close()
})

async function receiver(reply?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(reply)
  receivers.push(r)
  return r
}

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-notify-'))
  const auditPath = join(dir, 'audit.jsonl')
  const log = AuditLog.open({ path: auditPath, durable: false, actor: 'ada' })
  return { dir, auditPath, log }
}

function entry(statement: string, fields: Partial<AuditEntry>): AuditEntry {
  return { project: 'shop', tier: 'destructive', statement, flags: none, outcome: 'committed', ...fields }
}

/** The events every test log holds, one append per step, as the executor and the MCP server write them. */
async function writeLifecycle(log: AuditLog): Promise<void> {
  const steps: AuditEntry[][] = [
    [
      entry('DROP TABLE old_orders', {
        outcome: 'blocked',
        source: 'mcp approval ap-7k2m9xq4ra: waiting for a person',
        actor: 'mcp:claude',
      }),
    ],
    [
      entry('DROP TABLE old_orders', {
        outcome: 'dry_run',
        flags: { ...override, dryRun: true },
        source: 'mcp approval ap-7k2m9xq4ra: approved by ada via cli, until 2030-01-01T00:15:00.000Z',
      }),
    ],
    [
      entry('DROP TABLE old_orders', {
        outcome: 'intent',
        flags: override,
        source: 'mcp approval ap-7k2m9xq4ra (approved by ada via cli)',
      }),
    ],
    [
      entry('DROP TABLE old_orders', {
        outcome: 'committed',
        flags: override,
        rowsAffected: 0,
        source: 'mcp approval ap-7k2m9xq4ra (approved by ada via cli)',
      }),
    ],
    [
      entry('TRUNCATE carts', {
        tier: 'cautious',
        outcome: 'blocked',
        source: 'mcp approval ap-denied0001: denied by bob',
      }),
    ],
    [
      entry('TRUNCATE sessions', {
        tier: 'cautious',
        outcome: 'blocked',
        source: 'mcp approval ap-expired001: refused',
        error: 'the approval expired at 2030-01-01T00:15:00.000Z',
      }),
    ],
    [entry('CREATE TABLE t (id int)', { tier: 'safe', outcome: 'committed', source: 'cli' })],
    [
      entry('DELETE FROM audit_trail WHERE id > 0', {
        tier: 'cautious',
        outcome: 'failed',
        flags: { ...none, confirm: true },
        source: 'cli',
        error: 'Effect exceeds the allowed tier: delete on audit_trail. Rolled back; nothing was changed.',
      }),
    ],
    [
      entry('DROP TABLE a', {
        outcome: 'rolled_back',
        flags: override,
        source: 'cli',
        error: 'rolled back: a later statement failed',
      }),
      entry('DROP TABLE missing', {
        outcome: 'failed',
        flags: override,
        source: 'cli',
        sqlstate: '42P01',
        error: 'table "missing" does not exist',
      }),
    ],
  ]
  for (const step of steps) (await log.append(step))._unsafeUnwrap()
}

const since = '2000-01-01T00:00:00.000Z'

describe('deriveEvents', () => {
  it('makes one event per recorded step and none for safe, intent or rolled-back work', async () => {
    const { log } = workspace()
    await writeLifecycle(log)
    const events = deriveEvents((await log.read())._unsafeUnwrap())
    expect(events.map((e) => e.type)).toEqual([
      'approval.requested',
      'approval.granted',
      'work.committed',
      'approval.refused',
      'approval.expired',
      'work.refused',
    ])
    const [requested, granted, committed, denied, , refused] = events
    expect(requested?.approval).toEqual({ id: 'ap-7k2m9xq4ra', command: 'ddl approve ap-7k2m9xq4ra' })
    expect(granted?.approval).toEqual({
      id: 'ap-7k2m9xq4ra',
      by: 'ada',
      via: 'cli',
      expiresAt: '2030-01-01T00:15:00.000Z',
    })
    expect(committed).toMatchObject({ tier: 'destructive', rows: 0, approval: { id: 'ap-7k2m9xq4ra', by: 'ada' } })
    expect(denied?.approval).toEqual({ id: 'ap-denied0001', by: 'bob' })
    expect(refused?.reason).toMatch(/^Effect exceeds the allowed tier/)
  })

  it('reads the undo id of committed work when the record carries one, and needs none', () => {
    const base = {
      v: 1,
      seq: 1,
      time: '2030-01-01T00:00:00.000Z',
      actor: 'ada',
      prevHash: '0'.repeat(64),
      hash: 'a'.repeat(64),
    } as const
    const record = { ...base, ...entry('DROP TABLE x', { flags: override }), undo: 'kept:u-42' } as ReadRecord
    expect(deriveEvents([record])[0]?.undo).toBe('u-42')
    const given = { ...record, undo: 'given-up' } as ReadRecord
    expect(deriveEvents([given])[0]).not.toHaveProperty('undo')
  })

  it('names an effect-check refusal by its reason string too', () => {
    const base = {
      v: 1,
      seq: 1,
      time: '2030-01-01T00:00:00.000Z',
      actor: 'ada',
      prevHash: '0'.repeat(64),
      hash: 'b'.repeat(64),
    } as const
    const record = {
      ...base,
      ...entry('DELETE FROM t WHERE true', { outcome: 'rolled_back', error: 'effect-exceeds-tier: delete on t' }),
    } as ReadRecord
    expect(deriveEvents([record]).map((e) => e.type)).toEqual(['work.refused'])
  })
})

describe('Notifier with a signed webhook', () => {
  it('delivers each event once, and the receiver verifies every signature with standardwebhooks', async () => {
    const r = await receiver()
    const { log, auditPath } = workspace()
    const { sinks, problems } = resolveSinks(
      [{ kind: 'webhook', urlEnv: 'HOOK', secretEnv: 'HOOK_SECRET', minTier: 'cautious' }],
      {
        HOOK: r.url,
        HOOK_SECRET: secret,
      },
    )
    expect(problems).toEqual([])
    const notifier = Notifier.open({ auditPath, sinks })
    await writeLifecycle(log)
    const report = (await notifier.deliverPending({ since }))._unsafeUnwrap()
    expect(report).toMatchObject({ delivered: 6, pending: 0, failed: 0, errors: [] })
    const again = (await notifier.deliverPending({ since }))._unsafeUnwrap()
    expect(again.delivered).toBe(0)

    const wh = new Webhook(secret)
    const verified = r.received.map(
      (m) => wh.verify(m.body, m.headers as Record<string, string>) as { type: string; data: NotifyEvent },
    )
    expect(verified.map((v) => v.type)).toEqual([
      'approval.requested',
      'approval.granted',
      'work.committed',
      'approval.refused',
      'approval.expired',
      'work.refused',
    ])
    expect(new Set(r.received.map((m) => m.headers['webhook-id'])).size).toBe(6)
    expect(verified[0]?.data.statements).toEqual([{ sql: 'DROP TABLE old_orders', tier: 'destructive' }])

    // A tampered body fails verification: the signature covers it.
    const first = r.received[0]
    expect(() => wh.verify(`${first?.body} `, first?.headers as Record<string, string>)).toThrow()
  })

  it('picks up records written after the last call, and none written before the first', async () => {
    const r = await receiver()
    const { log, auditPath } = workspace()
    await writeLifecycle(log)
    const { sinks } = resolveSinks([{ kind: 'webhook', url: r.url, secretEnv: 'S' }], { S: secret })
    const notifier = Notifier.open({ auditPath, sinks })
    const start = new Date(Date.now() + 1).toISOString()
    await new Promise((resolve) => setTimeout(resolve, 5))
    ;(await log.append(entry('DROP TABLE later', { flags: override, source: 'cli' })))._unsafeUnwrap()
    expect((await notifier.deliverPending({ since: start }))._unsafeUnwrap().delivered).toBe(1)
    ;(await log.append(entry('DROP TABLE later_still', { flags: override, source: 'cli' })))._unsafeUnwrap()
    expect((await notifier.deliverPending())._unsafeUnwrap().delivered).toBe(1)
    expect(r.received.map((m) => (JSON.parse(m.body) as { data: NotifyEvent }).data.statements?.[0]?.sql)).toEqual([
      'DROP TABLE later',
      'DROP TABLE later_still',
    ])
  })

  it('retries after a 500 with the same webhook-id, within the call', async () => {
    const r = await receiver((n) => (n === 0 ? 500 : 200))
    const { log, auditPath } = workspace()
    const { sinks } = resolveSinks([{ kind: 'webhook', url: r.url, secretEnv: 'S' }], { S: secret })
    ;(await log.append(entry('DROP TABLE x', { flags: override })))._unsafeUnwrap()
    const report = (await Notifier.open({ auditPath, sinks }).deliverPending({ since }))._unsafeUnwrap()
    expect(report).toMatchObject({ delivered: 1, pending: 0 })
    expect(r.received).toHaveLength(2)
    expect(r.received[1]?.headers['webhook-id']).toBe(r.received[0]?.headers['webhook-id'])
  })

  it('keeps a delivery that timed out and delivers it on the next call', async () => {
    const r = await receiver((n) => (n === 0 ? 'hang' : 200))
    const { log, auditPath } = workspace()
    const { sinks } = resolveSinks([{ kind: 'webhook', url: r.url, secretEnv: 'S', timeoutMs: 300 }], { S: secret })
    const notifier = Notifier.open({ auditPath, sinks })
    ;(await log.append(entry('DROP TABLE x', { flags: override })))._unsafeUnwrap()
    const first = (await notifier.deliverPending({ since }))._unsafeUnwrap()
    expect(first).toMatchObject({ delivered: 0, pending: 1 })
    expect(first.errors[0]).toMatch(
      /work\.committed evt_\w+ to webhook \(127\.0\.0\.1:\d+\): timed out after 300 ms \(attempt 1\)/,
    )
    const status = (await notifier.status())._unsafeUnwrap()
    expect(status.deliveries).toMatchObject([{ state: 'pending', attempts: 1, lastError: 'timed out after 300 ms' }])
    const second = (await notifier.deliverPending({ force: true }))._unsafeUnwrap()
    expect(second).toMatchObject({ delivered: 1, pending: 0 })
    expect(r.received).toHaveLength(2)
    expect((await notifier.status())._unsafeUnwrap()).toMatchObject({ delivered: 1, deliveries: [] })
  })

  it('returns from a closed port and from a server that never answers, keeping the deliveries', async () => {
    const hang = await receiver(() => 'hang')
    const port = await closedPort()
    const { log, auditPath } = workspace()
    const { sinks } = resolveSinks(
      [
        { kind: 'webhook', url: `http://127.0.0.1:${port}/hook`, secretEnv: 'S', timeoutMs: 400 },
        { kind: 'webhook', url: hang.url, secretEnv: 'S', timeoutMs: 400 },
      ],
      { S: secret },
    )
    ;(await log.append(entry('DROP TABLE x', { flags: override })))._unsafeUnwrap()
    const started = performance.now()
    const report = (await Notifier.open({ auditPath, sinks }).deliverPending({ since }))._unsafeUnwrap()
    const elapsed = performance.now() - started
    process.stdout.write(`dead sinks (timeout 400 ms): deliverPending returned in ${Math.round(elapsed)} ms\n`)
    expect(report.delivered).toBe(0)
    expect(report.pending).toBe(2)
    expect(report.errors.join('\n')).toContain('connection refused')
    expect(report.errors.join('\n')).toContain('timed out after')
  })
})

describe('payloads', () => {
  it('shapes a Slack message: who, what, where, tier, rows and the ddl approve command', async () => {
    const r = await receiver()
    const { log, auditPath } = workspace()
    const { sinks } = resolveSinks([{ kind: 'slack', urlEnv: 'SLACK_URL' }], { SLACK_URL: r.url })
    await writeLifecycle(log)
    const notifier = Notifier.open({
      auditPath,
      sinks,
      describeApproval: async (id) =>
        id === 'ap-7k2m9xq4ra'
          ? {
              statements: [
                {
                  sql: 'DROP TABLE old_orders',
                  tier: 'destructive',
                  line: 1,
                  findings: [
                    {
                      rule: 'drop-table',
                      tier: 'destructive',
                      message: 'DROP TABLE old_orders deletes the table and all its rows.',
                    },
                  ],
                },
              ],
              rehearsal: ['DROP TABLE old_orders: 1200 rows in the table'],
              database: '127.0.0.1:5432/shop',
            }
          : undefined,
    })
    expect((await notifier.deliverPending({ since }))._unsafeUnwrap().delivered).toBe(6)
    const bodies = r.received.map(
      (m) => JSON.parse(m.body) as { text: string; blocks: { type: string; text: { type: string; text: string } }[] },
    )
    for (const b of bodies) {
      expect(typeof b.text).toBe('string')
      expect(b.blocks.every((block) => block.type === 'section' && block.text.type === 'mrkdwn')).toBe(true)
    }
    const requested = bodies[0]
    const all = requested?.blocks.map((b) => b.text.text).join('\n') ?? ''
    expect(requested?.text).toBe(':raised_hand: Approval requested: project shop, by mcp:claude')
    expect(all).toContain('*Who:* mcp:claude')
    expect(all).toContain('*Where:* project `shop` (127.0.0.1:5432/shop)')
    expect(all).toContain('*Tier:* DESTRUCTIVE')
    expect(all).toContain('DROP TABLE old_orders deletes the table and all its rows.')
    expect(all).toContain('1200 rows in the table')
    expect(all).toContain('`ddl approve ap-7k2m9xq4ra`')
    const committed = bodies[2]?.blocks.map((b) => b.text.text).join('\n') ?? ''
    expect(bodies[2]?.text).toBe(':warning: Work committed (DESTRUCTIVE): project shop, by ada')
    expect(committed).toContain('*Rows:* 0')
  })

  it('puts no password or signing secret in any body, and no SQL when includeSql is false', async () => {
    const r = await receiver()
    const { log, auditPath } = workspace()
    const password = `pw-${randomBytes(8).toString('hex')}`
    const { sinks } = resolveSinks(
      [
        { kind: 'webhook', url: r.url, secretEnv: 'S' },
        { kind: 'webhook', url: `${r.url}?nosql`, secretEnv: 'S', includeSql: false },
        { kind: 'slack', urlEnv: 'SLACK_URL' },
      ],
      { S: secret, SLACK_URL: `${r.url}?slack` },
    )
    ;(
      await log.append(entry(`ALTER ROLE app PASSWORD '${password}'`, { flags: override, source: 'cli' }))
    )._unsafeUnwrap()
    ;(
      await log.append(
        entry('DROP TABLE x', {
          outcome: 'failed',
          source: 'cli',
          error: `Effect exceeds the allowed tier: postgres://app:${password}@db/x`,
        }),
      )
    )._unsafeUnwrap()
    expect((await Notifier.open({ auditPath, sinks }).deliverPending({ since }))._unsafeUnwrap().delivered).toBe(6)
    expect(r.received).toHaveLength(6)
    for (const m of r.received) {
      expect(m.body).not.toContain(password)
      expect(m.body).not.toContain(secret)
      expect(m.body).not.toContain(secret.slice('whsec_'.length))
    }
    const state = readFileSync(`${auditPath}.notify.json`, 'utf8')
    expect(state).not.toContain(secret.slice('whsec_'.length))
    const nosql = r.received.filter((m) => m.body.includes('"statements"') && !m.body.includes('"sql"'))
    expect(nosql).toHaveLength(2)
  })
})

describe('resolveSinks', () => {
  it('reads one sink from DDL_NOTIFY_URL, and refuses secrets written in the file', () => {
    const env = { DDL_NOTIFY_URL: 'https://hooks.example.com/x', DDL_NOTIFY_SECRET: secret }
    const { sinks, problems } = resolveSinks(
      [
        { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' },
        { kind: 'webhook', url: 'https://hooks.example.com/y' },
        { kind: 'webhook', url: 'https://u:p@hooks.example.com/z', secretEnv: 'DDL_NOTIFY_SECRET' },
        { kind: 'webhook', urlEnv: 'UNSET', secretEnv: 'DDL_NOTIFY_SECRET' },
      ],
      env,
    )
    expect(sinks.map((s) => s.label)).toEqual(['webhook (hooks.example.com)'])
    expect(problems).toEqual([
      'notify[0]: a Slack webhook URL is a secret: keep it in an environment variable and name it in "urlEnv"',
      'notify[1]: a webhook is signed: set "secretEnv" to a secret (whsec_ + base64)',
      'notify[2]: the URL must not hold a user name or password',
      'notify[3]: the environment variable UNSET is not set',
    ])
    expect(problems.join('\n')).not.toContain(secret)
  })
})
