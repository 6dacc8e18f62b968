import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const packages = fileURLToPath(new URL('./packages/', import.meta.url))

// One config for every package. `@ddl/*` resolves to each package's source, so tests
// never run against a stale build; a declared subpath (`@ddl/executor/internal`) resolves to
// the source file of the same name. The architecture test checks that only these public
// entry points are imported across packages.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@ddl\/([a-z]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@ddl\/([a-z]+)\/([a-z-]+)$/, replacement: `${packages}$1/src/$2.ts` },
    ],
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
    // Vitest's default is one file at a time per core but one (a single file on 2 cores), and this
    // suite spends about half its time waiting (Postgres commits and fsyncs, child processes, the
    // network on loopback): three files at a time on 2 cores keep both busy. Each file has its own
    // database on the one server (test/support/global-setup.ts) and its own temp directories.
    maxWorkers: Math.max(3, availableParallelism() - 1),
  },
})
