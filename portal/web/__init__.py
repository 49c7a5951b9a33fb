"""Cross-cutting web plumbing: pure-ASGI middleware, cookies, request context."""
