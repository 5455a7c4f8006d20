"""HTTP API (FastAPI) and the chat page for yibao-qa; run with `python -m api`."""
