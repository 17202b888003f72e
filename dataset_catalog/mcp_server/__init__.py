"""`dataset-catalog mcp`: the catalog's search as Model Context Protocol tools for coding agents.

`tools.py` holds the tools as plain functions over an opened CatalogService (testable without
MCP); `server.py` registers them with the SDK's server and runs it over stdio or streamable HTTP.
Imported by common/sources.py's package walk, so this module imports nothing.
"""
