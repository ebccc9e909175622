"""Assembly: settings, the ASGI app, the per-request context, stores, database, security, CLI."""
