"""The HTTP API: FastAPI app, routers per domain, dependencies and the error mapping."""
