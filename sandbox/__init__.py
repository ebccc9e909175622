"""Stand-ins for the company systems, the identity broker and the partner banks, with seed data.

Imported only by the wiring that chooses the sandbox (``gateway.wiring``) and by tests.
"""
