/**
 * Row 5: one-file `ddl check` on each Node binary given (this one, plus `--nodes` or $DDL_BENCH_NODES),
 * against `node -e 0` on the same binary. It catches a Node release that changes how ddl's V8 setting
 * behaves: on Node 24 a run-time `--liftoff-only` alone stopped preventing WebAssembly tier-up, and one
 * small file took ~1.1 s and 610 MB instead of ~0.25 s and 78 MB. Peak memory, not time, is the guard
 * (`--strict` fails the bench when it is exceeded): it does not move with the machine's load.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ratioOf, runProcess, summarize } from '../lib/measure.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const ddlBin = fileURLToPath(new URL('../../packages/cli/bin/ddl.js', import.meta.url))

/** Peak RSS above this for one small file means the parser's WebAssembly was compiled by TurboFan. */
export const ONE_FILE_RSS_GUARD_MIB = 200

/** The Node binaries to measure: this one first, then the extra paths (deduplicated by version). */
export function nodeBinaries(extra) {
  const paths = [process.execPath, ...extra]
  const seen = new Set()
  const out = []
  for (const path of paths) {
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim()
    if (seen.has(version)) continue
    seen.add(version)
    out.push({ path, version })
  }
  return out
}

/**
 * Times `node -e 0`, `ddl check one.sql` and `ddl --help` on each binary, interleaved across binaries,
 * one warm-up round then `runs` rounds.
 */
export async function nodesRow({ nodes, runs, scratch }) {
  const file = join(scratch, 'one.sql')
  writeFileSync(
    file,
    'CREATE TABLE accounts (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  email text NOT NULL UNIQUE,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n',
  )
  const commands = {
    node: { args: ['-e', '0'], codes: [0] },
    check: { args: [ddlBin, 'check', file], codes: [0] },
    help: { args: [ddlBin, '--help'], codes: [0] },
  }
  const raw = nodes.map(() => Object.fromEntries(Object.keys(commands).map((k) => [k, []])))
  for (let i = -1; i < runs; i++) {
    for (const [n, node] of nodes.entries()) {
      for (const [name, { args, codes }] of Object.entries(commands)) {
        const r = await runProcess(node.path, args, { cwd: root, node: true })
        if (!codes.includes(r.code)) {
          const again = await runProcess(node.path, args, { cwd: root, capture: true, node: true })
          throw new Error(`${node.version} ${name} exited ${r.code}: ${again.stderr.slice(0, 800)}`)
        }
        if (i >= 0) raw[n][name].push(r)
      }
    }
  }
  const sum = (list) => {
    const rss = list.map((r) => r.rssMiB).filter((x) => x !== undefined)
    return { ...summarize(list.map((r) => r.ms)), peakRssMiB: rss.length > 0 ? Math.max(...rss) : undefined }
  }
  return {
    file: 'one CREATE TABLE',
    rssGuardMiB: ONE_FILE_RSS_GUARD_MIB,
    target: 2,
    nodes: nodes.map((node, n) => {
      const r = raw[n]
      const check = sum(r.check)
      return {
        version: node.version,
        path: node.path,
        node: sum(r.node),
        check,
        help: sum(r.help),
        ratio: ratioOf(
          r.check.map((x) => x.ms),
          r.node.map((x) => x.ms),
        ),
        rssGuardMet: check.peakRssMiB === undefined ? undefined : check.peakRssMiB <= ONE_FILE_RSS_GUARD_MIB,
      }
    }),
  }
}
