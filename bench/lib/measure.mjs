/**
 * Timing and peak-memory helpers: medians with min and max, whole-process runs with their peak RSS.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Median, min and max of a list of numbers. */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const n = sorted.length
  const median = n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  return { median, min: sorted[0], max: sorted[n - 1], runs: n }
}

/** Per-iteration ratios `a[i] / b[i]`, summarized (runs were interleaved, so each pair shares the load). */
export function ratioOf(a, b) {
  return summarize(a.map((x, i) => x / b[i]))
}

const GNU_TIME = '/usr/bin/time'
const hasGnuTime = existsSync(GNU_TIME)
const rssReporter = fileURLToPath(new URL('./rss-report.mjs', import.meta.url))
/** Where GNU time writes its figures; made on the first process run. */
let scratch
let counter = 0

/** How peak RSS is measured in this run. */
export const rssMethod = hasGnuTime ? '/usr/bin/time' : 'process.resourceUsage().maxRSS (Node processes only)'

/** Removes the scratch directory of the RSS files. */
export function cleanupMeasure() {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true })
  scratch = undefined
}

/**
 * Runs a command to its end with stdout and stderr discarded (or captured with `capture`) and returns its
 * wall time in ms, its peak RSS in MiB (undefined when it cannot be measured) and its exit code. `node`
 * as the command means this Node binary; `options.node` says another command is a Node binary too.
 */
export function runProcess(command, args, options = {}) {
  scratch ??= mkdtempSync(join(tmpdir(), 'safe-ddl-bench-rss-'))
  const out = join(scratch, `rss-${process.pid}-${counter++}.txt`)
  let file = command === 'node' ? process.execPath : command
  let argv = args
  const env = { ...process.env, ...options.env }
  if (hasGnuTime) {
    argv = ['-f', '%M %U %S', '-o', out, file, ...args]
    file = GNU_TIME
  } else if (command === 'node' || options.node) {
    argv = ['--import', rssReporter, ...args]
    env.DDL_BENCH_RSS_FILE = out
  }
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env,
      stdio: ['ignore', options.capture ? 'pipe' : 'ignore', options.capture ? 'pipe' : 'ignore'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => {
      stdout += d
    })
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const ms = performance.now() - started
      let rssMiB
      let cpuMs
      try {
        const text = readFileSync(out, 'utf8').trim().split('\n')
        // GNU time writes "Command exited with non-zero status N" before the figures.
        const [kib, user, sys] = (text[text.length - 1] ?? '').split(' ').map(Number)
        if (Number.isFinite(kib) && kib > 0) rssMiB = kib / 1024
        if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user + sys) * 1000
        rmSync(out, { force: true })
      } catch {
        rssMiB = undefined
      }
      resolve({ ms, rssMiB, cpuMs, code: code ?? (signal === null ? -1 : 128), stdout, stderr })
    })
  })
}

/** Runs `fn` (sync or async) and returns its duration in ms. */
export async function timed(fn) {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

/** 1-minute load average, rounded. */
export function loadNow(os) {
  return Math.round(os.loadavg()[0] * 100) / 100
}
