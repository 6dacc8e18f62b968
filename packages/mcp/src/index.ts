export const MCP_PACKAGE = '@ddl/mcp'
