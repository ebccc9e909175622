"""``python -m bench.executor``: what the executor's shortcuts for basic fields save (schema/execution.py).

No upstreams, no HTTP: a page of rows shaped like the dashboard's invoices and permits (an edge with a node,
two Money objects, a list of assignments, a resolver's list like a permit's stations) is answered from memory
by the gateway's execution context, in turns with its shortcuts all on, without the shapes of resolvers'
values, with the leaf shortcut only, and with none (graphql-core's own path), so that the machine's drift is
spread over them. The document is parsed and validated once, as the
gateway's caches do. Prints µs per query and per field, and Python function calls per query (counted by
cProfile, the same on any machine: a measure of the work that a busy or throttled machine does not blur);
asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLSchema
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import execution
from schema.execution import Plan, ShortcutExecutionContext

COMPLETE_VALUE = ShortcutExecutionContext.complete_value


@strawberry.type
class Amount:
    amount: Decimal
    currency: str


@strawberry.type
class Assignment:
    frequency_mhz: Decimal
    bandwidth_khz: Decimal
    emission_designator: str
    direction: str


@strawberry.type
class Row:
    id: strawberry.ID
    number: str
    status: str
    total: Amount
    outstanding: Amount
    assignments: list[Assignment]

    @strawberry.field
    def title(self) -> str:  # a resolver: the row is not all basic fields
        return f"Row {self.number}"

    @strawberry.field
    def parts(self) -> list[Assignment]:  # a resolver's list of basic objects, like a permit's stations
        return self.assignments


@strawberry.type
class RowEdge:
    cursor: str
    node: Row


def rows(count: int) -> list[RowEdge]:
    assignment = Assignment(
        frequency_mhz=Decimal("160.125"),
        bandwidth_khz=Decimal("12.5"),
        emission_designator="11K0F3E",
        direction="TX",
    )
    return [
        RowEdge(
            cursor=str(n),
            node=Row(
                id=strawberry.ID(f"Um93OjE{n}"),
                number=f"R-{n:05d}",
                status="UNPAID",
                total=Amount(amount=Decimal("36.85"), currency="EUR"),
                outstanding=Amount(amount=Decimal("0.00"), currency="EUR"),
                assignments=[assignment, assignment],
            ),
        )
        for n in range(count)
    ]


QUERY = """{
  edges {
    cursor
    node {
      id number status title
      total { amount currency }
      outstanding { amount currency }
      assignments { frequencyMhz bandwidthKhz emissionDesignator direction }
      parts { frequencyMhz direction }
    }
  }
}"""
# edge, node's leaves and title, two Money, the list and its rows, the resolver's list and its rows
FIELDS_PER_ROW = 2 + 4 + 3 + 3 + 1 + 2 * 4 + 1 + 2 * 2


def make_schema(count: int) -> strawberry.Schema:
    data = rows(count)

    @strawberry.type
    class Query:
        @strawberry.field
        def edges(self) -> list[RowEdge]:
            return data

    return strawberry.Schema(
        query=Query,
        execution_context_class=ShortcutExecutionContext,
        extensions=[ParserCache, ValidationCache],
    )


@dataclass(frozen=True)
class Variant:
    plan: Callable[[GraphQLSchema], Plan]  # the basic fields the shortcuts may take
    value_shapes: bool  # resolvers' values built by their shapes

    def use(self) -> None:
        execution.basic_fields = self.plan  # type: ignore[assignment]
        base = StrawberryGraphQLCoreExecutionContext.complete_value
        ShortcutExecutionContext.complete_value = COMPLETE_VALUE if self.value_shapes else base  # type: ignore[method-assign]


def variants() -> dict[str, Variant]:
    every = execution.basic_fields
    leaves: dict[GraphQLSchema, Plan] = {}

    def leaves_only(schema: GraphQLSchema) -> Plan:
        if schema not in leaves:
            leaves[schema] = {
                key: basic for key, basic in every(schema).items() if basic.serialize is not None
            }
        return leaves[schema]

    return {
        "all shortcuts": Variant(every, True),
        "without resolvers' value shapes": Variant(every, False),
        "leaves only": Variant(leaves_only, False),
        "none (graphql-core)": Variant(lambda schema: {}, False),
    }


def calls_per_query(schema: strawberry.Schema, variant: Variant, queries: int = 5) -> int:
    """Python function calls (and C functions called from Python) per query, counted by cProfile."""
    variant.use()
    schema.execute_sync(QUERY)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(queries):
        schema.execute_sync(QUERY)
    profile.disable()
    return round(pstats.Stats(profile).total_calls / queries)  # type: ignore[attr-defined]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.executor", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=20, help="rows per query (the dashboard's page size)")
    p.add_argument("--rounds", type=int, default=15, help="turns of the variants")
    p.add_argument("--queries", type=int, default=50, help="queries per variant and turn")
    args = p.parse_args()
    schema = make_schema(args.rows)
    chosen = variants()
    answers: dict[str, Any] = {}
    try:
        for name, variant in chosen.items():
            variant.use()
            result = schema.execute_sync(QUERY)
            assert not result.errors, result.errors
            answers[name] = result.data
        assert all(answer == answers["none (graphql-core)"] for answer in answers.values())
        calls = {name: calls_per_query(schema, variant) for name, variant in chosen.items()}
        timings: dict[str, list[float]] = {name: [] for name in chosen}
        for _ in range(args.rounds):
            for name, variant in chosen.items():
                variant.use()
                start = time.process_time()
                for _ in range(args.queries):
                    schema.execute_sync(QUERY)
                timings[name].append((time.process_time() - start) / args.queries * 1e6)
    finally:
        chosen["all shortcuts"].use()
    fields = args.rows * FIELDS_PER_ROW + 1
    print(f"\n{args.rows} rows, {fields} fields per answer, medians of {args.rounds} turns (same answers)\n")
    print("| executor | µs per query | µs per field | Python calls per query |")
    print("|---|--:|--:|--:|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.0f} | {median / fields:.2f} | {calls[name]:,} |")


if __name__ == "__main__":
    main()
