import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

// One config for every package. `@ddl/*` resolves to each package's source, so tests
// never run against a stale build; the architecture test checks that only these public
// entry points are imported across packages.
export default defineConfig({
  resolve: {
    alias: {
      '@ddl/classifier': src('classifier'),
      '@ddl/audit': src('audit'),
      '@ddl/executor': src('executor'),
      '@ddl/schema': src('schema'),
      '@ddl/notify': src('notify'),
      '@ddl/cli': src('cli'),
      '@ddl/mcp': src('mcp'),
    },
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'packages/*/src/**/*.test.ts',
      'test/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
