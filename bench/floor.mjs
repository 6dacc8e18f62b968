// The whole-process parser floor: load libpg-query, read each file given, parse it (splitting rejected
// files at the scanner's semicolons). What `ddl check` cannot do with less. Prints the statement count.
import { readFileSync } from 'node:fs'
import { floorParse, loadLibpgQuery } from './lib/floor-parse.mjs'

const lib = await loadLibpgQuery()
let statements = 0
for (const file of process.argv.slice(2)) statements += floorParse(lib, readFileSync(file, 'utf8')).statements
process.stdout.write(`${statements}\n`)
