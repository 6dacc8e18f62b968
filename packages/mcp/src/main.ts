import { runServer } from './run-server.js'

const code = await runServer(process.argv.slice(2))
if (code !== undefined) process.exitCode = code
