// An embedder of @ddl/mcp: settings are read as `ddl mcp` reads them; nothing is started.
import { loadSettings, type McpSettings, SERVER_NAME } from '@ddl/mcp'

const settings = loadSettings({}, {})
if (settings.isErr()) throw settings.error
const loaded: McpSettings = settings.value
console.log(SERVER_NAME, loaded.readOnly)
