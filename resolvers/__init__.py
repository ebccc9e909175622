"""Field resolvers, one module per business area, and the per-request DataLoaders.

Resolvers authorise first (``ctx.principal.require(client_id, scope)``, or ``allow`` when they do not need the
client's record), then load through the loaders, and return adapter records; the schema turns records into
GraphQL types.
"""
