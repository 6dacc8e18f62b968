import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { registerDemo, runDemo } from '../src/commands/demo.js'
import type { Io } from '../src/io.js'
import { type CommandContext, run } from '../src/program.js'

const bin = fileURLToPath(new URL('../bin/ddl.js', import.meta.url))

function bufferIo(color = false): Io & { readonly out: () => string; readonly err: () => string } {
  let stdout = ''
  let stderr = ''
  return {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    readStdin: async () => '',
    env: {},
    cwd: process.cwd(),
    color,
    out: () => stdout,
    err: () => stderr,
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

describe('ddl demo', () => {
  it('walks the six patterns, the rehearsal, the smuggle and the audit log, then removes its files', async () => {
    const io = bufferIo()
    let ready: { dir: string; pid: number | undefined } | undefined
    const started = performance.now()
    const code = await runDemo(io, {
      onReady: (info) => {
        ready = { ...info }
      },
    })
    const ms = performance.now() - started
    const out = io.out()
    expect(io.err()).toBe('')
    expect(code).toBe(0)
    expect(ms).toBeLessThan(30_000)

    for (const heading of [
      '1. Create tables for a new feature',
      '2. Run a folder of migrations',
      '3. Add columns to an existing table',
      '4. Clean up: confirm, and an override',
      '5. Inspect: getSchema and query',
      '6. Dry run',
      '7. Rehearse: run it for real, then roll back',
      '8. A COMMIT smuggled into a script',
      '9. The audit log',
    ]) {
      expect(out).toContain(`\n${heading}\n`)
    }
    // Pattern 1: the table did not exist, then it does.
    expect(out).toMatch(/tableExists\('campaigns'\)\)\n {5}false\n/)
    expect(out).toMatch(/✓ Committed 1 statement; SAFE; \d+ ms\./)
    // Pattern 2: applied once, skipped the second time.
    expect(out).toMatch(/migrations\/\n.*001_create_users\.sql/)
    expect(out).toMatch(/✓ Applied 2 migrations in \d+ ms\.\n.*\n.*Nothing to apply/)
    // Pattern 4: refused, then granted.
    expect(out).toContain('✗ refused: Cautious operation blocked: TRUNCATE test_data')
    expect(out).toContain('✗ refused: Destructive operation blocked: DROP TABLE old_backup')
    expect(out).toMatch(/iKnowWhatImDoing: true }\)\)\n {5}✓ Committed 1 statement; DESTRUCTIVE/)
    // Pattern 5 and 6.
    expect(out).toContain('     verified: boolean\n')
    expect(out).toContain('[{"count":"2"}]')
    expect(out).toContain('[DRY RUN] Would execute: CREATE TABLE test (id int)')
    expect(out).toContain("plan.tier: DESTRUCTIVE, plan.requires: 'iKnowWhatImDoing', plan.wouldRun: false")
    // Rehearsal: rows and locks, and nothing changed.
    expect(out).toContain('DELETE: 1 rows')
    expect(out).toMatch(/locks public\.users AccessExclusiveLock/)
    expect(out).toContain('[{"count":"3"}]')
    // The smuggle: refused whatever the flags; the table is still there.
    expect(out).toContain('✗ refused: Transaction control refused: COMMIT (line 1). Nothing was sent.')
    expect(out).toMatch(/tableExists\('users'\)\)\n {5}true\n/)
    // The audit log, read back by the real commands.
    expect(out).toMatch(/\| demo \| DESTRUCTIVE \| DROP TABLE users \| override=True \| BLOCKED/)
    expect(out).toMatch(/\$ ddl audit verify --log \S+audit\.jsonl\n {5}ok: \d+ records, head [0-9a-f]{64}\n/)
    // No colour without a TTY.
    expect(out).not.toContain('\u001b[')

    expect(ready).toBeDefined()
    expect(existsSync(ready?.dir ?? '/')).toBe(false)
    if (ready?.pid !== undefined) expect(alive(ready.pid)).toBe(false)
    expect(out).toContain(`Stopped Postgres and removed ${ready?.dir}.`)
  }, 60_000)

  it('shows its help with examples', async () => {
    const io = bufferIo()
    const ctx: CommandContext = { io, exitCode: 0 }
    expect(await run(['demo', '--help'], ctx, [registerDemo])).toBe(0)
    expect(io.out()).toContain('Examples:\n  $ ddl demo\n')
    expect(io.out()).toContain('130 interrupted (Ctrl-C)')
  })

  it('stops Postgres and removes its files on Ctrl-C', async () => {
    expect(existsSync(bin), 'the CLI is built (pnpm build)').toBe(true)
    // A new process group, as a terminal makes: Ctrl-C reaches Postgres as well as the demo.
    const child = spawn(process.execPath, [bin, 'demo'], {
      detached: true,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const dir = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8')
        const match = /Starting Postgres in (\S+) \.\.\./.exec(stdout)
        if (match?.[1] !== undefined && stdout.includes(' is ready on ')) resolve(match[1])
      })
      child.on('exit', () => reject(new Error(`the demo ended before Postgres was ready:\n${stdout}\n${stderr}`)))
    })
    expect(existsSync(dir)).toBe(true)
    process.kill(-(child.pid as number), 'SIGINT')
    const code = await exited
    // Interrupted mid-tour (130), or, on a fast machine, the tour had already ended (0).
    expect([130, 0]).toContain(code)
    if (code === 130) expect(stderr).toContain(`SIGINT: stopping Postgres and removing ${dir}`)
    expect(existsSync(dir)).toBe(false)
  }, 60_000)

  it('stops Postgres and removes its files when its output is closed early (ddl demo | head)', async () => {
    const child = spawn(process.execPath, [bin, 'demo'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let stdout = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const ready = await new Promise<{ dir: string; pid: number }>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8')
        const match = /Starting Postgres in (\S+) \.\.\./.exec(stdout)
        if (match?.[1] === undefined || !stdout.includes(' is ready on ')) return
        const pid = Number(readFileSync(join(match[1], 'pg/postmaster.pid'), 'utf8').split('\n')[0])
        child.stdout.destroy()
        resolve({ dir: match[1], pid })
      })
      child.on('exit', () => reject(new Error(`the demo ended before Postgres was ready:\n${stdout}`)))
    })
    const started = Date.now()
    await exited
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(existsSync(ready.dir)).toBe(false)
    // Postgres has exited; once its parent is gone, init reaps it.
    for (let i = 0; i < 40 && alive(ready.pid); i++) await new Promise((r) => setTimeout(r, 50))
    expect(alive(ready.pid)).toBe(false)
  }, 60_000)
})
