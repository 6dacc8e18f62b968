/**
 * Row 2: `ddl check` as a whole process against the bare-parser floor process (bench/floor.mjs) and
 * squawk (its native binary, called directly so its Node launcher is not counted against it), on the
 * same files. Also cold start: `ddl --version` and `ddl --help` against `node -e 0`.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { ratioOf, runProcess, summarize } from '../lib/measure.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const ddlBin = fileURLToPath(new URL('../../packages/cli/bin/ddl.js', import.meta.url))
const floorScript = fileURLToPath(new URL('../floor.mjs', import.meta.url))
const wasmSpy = fileURLToPath(new URL('../lib/wasm-spy.mjs', import.meta.url))

/** squawk's native binary (the npm package's platform package), or undefined. */
export function squawkBinary() {
  try {
    const launcher = createRequire(new URL('../../package.json', import.meta.url)).resolve('squawk-cli/package.json')
    return createRequire(launcher).resolve(`@squawk-cli/${process.platform}-${process.arch}/bin/squawk`)
  } catch {
    return undefined
  }
}

/** Which files squawk can read: it panics ("the parser seems stuck") on some. */
export async function squawkReadable(squawk, files) {
  const ok = []
  const failed = []
  for (const file of files) {
    const r = await runProcess(squawk, [file.path], { capture: true })
    if (r.code === 0 || r.code === 1) ok.push(file)
    else {
      const why = /panicked at[^\n]*\n([^\n]*)/.exec(r.stderr)?.[1] ?? r.stderr.split('\n')[0] ?? ''
      failed.push({ name: file.name, exitCode: r.code, error: why.trim() })
    }
  }
  return { ok, failed }
}

function summarizeRuns(list) {
  const times = summarize(list.map((r) => r.ms))
  const rss = list.map((r) => r.rssMiB).filter((x) => x !== undefined)
  const cpu = list.map((r) => r.cpuMs).filter((x) => x !== undefined)
  return {
    ...times,
    peakRssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
    // User + system CPU time: squawk uses every core, node a main thread plus helpers.
    cpuMs: cpu.length > 0 ? summarize(cpu).median : undefined,
  }
}

/**
 * Times each command on `paths`, interleaved (one warm-up each, then `runs` rounds). `commands` maps a
 * name to [command, args]. Exit codes other than those allowed fail the bench.
 */
async function timeCommands(commands, runs) {
  const results = Object.fromEntries(Object.keys(commands).map((k) => [k, []]))
  for (let i = -1; i < runs; i++) {
    for (const [name, { cmd, args, codes, env }] of Object.entries(commands)) {
      const r = await runProcess(cmd, args, { cwd: root, env })
      if (!codes.includes(r.code)) {
        const again = await runProcess(cmd, args, { cwd: root, env, capture: true })
        throw new Error(`${name} exited ${r.code}: ${again.stderr.slice(0, 800)}`)
      }
      if (i >= 0) results[name].push(r)
    }
  }
  return results
}

/**
 * One input set: ddl and floor on `files`; squawk, and ddl again, on the files squawk can read; and
 * ddl on two threads (`DDL_CHECK_THREADS=2`: a worker classifies the last files).
 */
export async function checkInput({ files, squawkFiles, runs, squawk }) {
  const paths = files.map((f) => f.path)
  const commands = {
    ddl: { cmd: 'node', args: [ddlBin, 'check', ...paths], codes: [0, 1] },
    ddlTwoThreads: {
      cmd: 'node',
      args: [ddlBin, 'check', ...paths],
      codes: [0, 1],
      env: { DDL_CHECK_THREADS: '2' },
    },
    floor: { cmd: 'node', args: [floorScript, ...paths], codes: [0] },
    // The floor with the V8 setting ddl uses for itself (no WebAssembly tier-up): same work, fairer clock.
    floorLiftoff: { cmd: 'node', args: ['--liftoff-only', floorScript, ...paths], codes: [0] },
  }
  const sameForSquawk = squawkFiles !== undefined && squawkFiles.length === files.length
  if (squawk !== undefined && squawkFiles !== undefined) {
    const sPaths = squawkFiles.map((f) => f.path)
    commands.squawk = { cmd: squawk, args: sPaths, codes: [0, 1] }
    if (!sameForSquawk) commands.ddlOnSquawkFiles = { cmd: 'node', args: [ddlBin, 'check', ...sPaths], codes: [0, 1] }
  }
  const r = await timeCommands(commands, runs)
  const ms = (name) => r[name].map((x) => x.ms)
  const out = {
    files: files.length,
    ddl: summarizeRuns(r.ddl),
    floor: summarizeRuns(r.floor),
    ratio: ratioOf(ms('ddl'), ms('floor')),
    target: 1.3,
    floorLiftoff: { ...summarizeRuns(r.floorLiftoff), ratio: ratioOf(ms('ddl'), ms('floorLiftoff')) },
    twoThreads: { ...summarizeRuns(r.ddlTwoThreads), ratio: ratioOf(ms('ddlTwoThreads'), ms('ddl')) },
  }
  if (r.squawk !== undefined) {
    const ddlForSquawk = sameForSquawk ? 'ddl' : 'ddlOnSquawkFiles'
    out.squawk = {
      files: squawkFiles.length,
      ...summarizeRuns(r.squawk),
      ddlOnSameFiles: summarizeRuns(r[ddlForSquawk]),
      ratio: ratioOf(ms(ddlForSquawk), ms('squawk')),
    }
  }
  return out
}

/** Cold start: `ddl --version`, `ddl --help`, against Node doing nothing; and whether either touched WebAssembly. */
export async function coldStart({ runs }) {
  const r = await timeCommands(
    {
      node: { cmd: 'node', args: ['-e', '0'], codes: [0] },
      version: { cmd: 'node', args: [ddlBin, '--version'], codes: [0] },
      help: { cmd: 'node', args: [ddlBin, '--help'], codes: [0] },
    },
    runs,
  )
  // What WebAssembly each compiles: libpg-query's 1.7 MB module, or only something small (Node's
  // undici llhttp, compiled when `pg` loads).
  const spy = async (args) => {
    const s = await runProcess('node', ['--import', wasmSpy, ddlBin, ...args], { cwd: root, capture: true })
    const sizes = [...s.stderr.matchAll(/WebAssembly\.compile called: (\d+) bytes/g)].map((m) => Number(m[1]))
    return { libpgQuery: sizes.some((n) => n > 1_000_000), otherWasmBytes: sizes.filter((n) => n <= 1_000_000) }
  }
  return {
    node: summarizeRuns(r.node),
    version: summarizeRuns(r.version),
    help: summarizeRuns(r.help),
    wasmTouched: { version: await spy(['--version']), help: await spy(['--help']) },
  }
}
