"""The ``/graphql`` endpoint: Strawberry's ASGI view with our context, GraphiQL only in dev."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.access_log import note_principal
from gateway.context import build_context
from gateway.metrics import count_errors
from gateway.middleware import graphql_refusal
from resolvers.audit import principal_of
from resolvers.context import Context
from resolvers.services import Services
from schema.build import GatewaySchema
from schema.errors import format_error


class GatewayGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: GatewaySchema, *, dev: bool) -> None:
        # GET runs queries only (Strawberry refuses mutations over GET); no subscriptions are offered.
        super().__init__(schema, graphql_ide="graphiql" if dev else None, allow_queries_via_get=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, but a request it refuses before running (not JSON, a batch, a mutation over GET,
        an unknown operation name) is answered with a GraphQL error and its code, not plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as refused:
            response = graphql_refusal(refused.reason, refused.status_code)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services: Services = request.app.state.services
        context = await build_context(services, request)
        context.http_response = response
        note_principal(request.scope, *principal_of(context))
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error leaves here, whichever stage raised it (parse, validation, execution)."""
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            request_id = request.scope.get("state", {}).get("request_id")
            errors = [format_error(e, request_id) for e in result.errors]
            count_errors([error["extensions"]["code"] for error in errors])
            response["errors"] = list(errors)
        return response

    def decode_json(self, data: str | bytes) -> object:
        # orjson's error is a json.JSONDecodeError, which Strawberry answers 400, for invalid UTF-8 and for
        # nesting past 1,024 levels as well (the standard library's decoder raised others there: a 500).
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        # Bytes, which Strawberry accepts and Starlette sends as they are: a str would be decoded here and
        # encoded again for the response, two more copies of the whole answer.
        return orjson.dumps(data, default=_default)


def _default(value: Any) -> Any:
    return str(value)
