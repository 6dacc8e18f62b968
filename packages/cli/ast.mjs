import { classify, init } from '@ddl/classifier'

await init()
const sql = process.argv[2]
for (const s of classify(sql)._unsafeUnwrap().statements) console.log(JSON.stringify(s.ast))
