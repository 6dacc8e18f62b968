#!/usr/bin/env node
// Thin launcher: the server is compiled to dist/ by `pnpm install` (root `prepare` runs `tsc -b`).
import('../dist/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('ddl-mcp: not built. Run `pnpm install` (or `pnpm build`) at the repository root.\n')
    process.exit(2)
  }
  throw error
})
