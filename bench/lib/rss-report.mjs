// Preloaded (`node --import`) into a measured Node process when /usr/bin/time is missing: at exit it
// writes the process's peak RSS in KiB to $DDL_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs'

const file = process.env.DDL_BENCH_RSS_FILE
if (file !== undefined) {
  process.on('exit', () => {
    writeFileSync(file, `${process.resourceUsage().maxRSS}\n`)
  })
}
