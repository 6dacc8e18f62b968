#!/usr/bin/env node
// Thin launcher. The CLI is compiled to dist/ by `pnpm install` (root `prepare`: `tsc -b`, then
// packages/cli/scripts/bundle.mjs, which also writes bundle/). The bundle starts faster; it is run
// only while the files that witness its inputs are as they were then (bundle/inputs.json: each
// package's dist/.tsbuildinfo, which tsc rewrites when it emits, and pnpm's .modules.yaml; size and
// mtime), so a rebuild of dist/ without a new bundle runs dist/ instead of stale code.
import { readFileSync, statSync } from 'node:fs'

const bundle = new URL('../bundle/', import.meta.url)

function bundleIsFresh() {
  try {
    const inputs = JSON.parse(readFileSync(new URL('inputs.json', bundle), 'utf8'))
    for (const [path, size, mtimeMs] of inputs) {
      const s = statSync(new URL(path, bundle), { throwIfNoEntry: false })
      if (s === undefined || s.size !== size || s.mtimeMs !== mtimeMs) return false
    }
    return inputs.length > 0
  } catch {
    return false
  }
}

import(bundleIsFresh() ? '../bundle/main.js' : '../dist/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('ddl: the CLI is not built. Run `pnpm install` (or `pnpm build`) at the repository root.\n')
    process.exit(2)
  }
  throw error
})
