"""The query cost estimate (schema.cost): the values an answer could hold, counted before it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, parse, validate

from schema.build import create_schema
from schema.cost import cost_limit

SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return create_schema()._schema


def cost(schema: GraphQLSchema, document: str) -> int:
    """The estimate, read off the refusal of a limit of 0."""
    [error] = validate(schema, parse(document), [cost_limit(0)])
    return int(error.message.split("is ")[1].split(" values")[0].replace(",", ""))


def test_the_portals_documents_are_within_the_default_limit(schema: GraphQLSchema) -> None:
    costs = {p.stem: cost(schema, p.read_text()) for p in SCENARIOS.glob("*.graphql")}
    assert costs["dashboard"] == 115_207 and costs["large-client"] == 55_809
    assert all(value < 300_000 for value in costs.values())


def test_first_multiplies_what_is_below_it_capped_at_100_and_lists_by_a_guess(schema: GraphQLSchema) -> None:
    one = 'query { client(id: "x") { permits(first: 1) { edges { node { number } } } } }'
    # client 1 + permits 1 + edges 1 + node 1 + number 1
    assert cost(schema, one) == 5
    many = one.replace("first: 1", "first: 50")
    assert cost(schema, many) == 1 + 1 + 1 + 50 + 50  # one list of edges, 50 nodes with a number each
    hundred = cost(schema, one.replace("first: 1", "first: 100"))
    assert cost(schema, one.replace("first: 1", "first: 5000")) == hundred
    variable = 'query($f: Int) { client(id: "x") { permits(first: $f) { edges { node { number } } } } }'
    assert cost(schema, variable) == hundred
    stations = 'query { client(id: "x") { permits(first: 1) { edges { node { stations { name } } } } } }'
    assert cost(schema, stations) == 1 + 1 + 1 + 1 + 1 + 10  # stations: 1 per permit, 10 names


def test_fragments_count_where_they_are_spread_and_a_cycle_does_not_loop(schema: GraphQLSchema) -> None:
    inline = 'query { client(id: "x") { ... on Client { permits(first: 10) { totalCount } } } }'
    fragment = "fragment P on Client { permits(first: 10) { totalCount } }"
    spread = 'query { client(id: "x") { ...P ...P } } ' + fragment
    assert cost(schema, inline) == 3 and cost(schema, spread) == 5  # one total per connection
    cyclic = 'query { client(id: "x") { ...A } } fragment A on Client { name ...A }'
    assert validate(schema, parse(cyclic), [cost_limit(10)]) == []  # other rules report the cycle


def test_within_the_limit_nothing_is_reported(schema: GraphQLSchema) -> None:
    document = (SCENARIOS / "dashboard.graphql").read_text()
    assert validate(schema, parse(document), [cost_limit(115_207)]) == []
    assert len(validate(schema, parse(document), [cost_limit(115_206)])) == 1
