"""The GraphQL schema: Strawberry types, inputs, enums, the Schema object; ``schema.graphql`` is its SDL."""
