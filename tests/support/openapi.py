"""Holding the desk's answers to its own OpenAPI document, with schemathesis, over a FastAPI test client."""

from __future__ import annotations

from typing import Any

import httpx
import requests
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

OPENAPI_PATH = "/api/openapi.json"
# no server error, and the status, content type, headers and body the document declares for the operation
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def load_schema(document: dict[str, Any]) -> schemathesis.BaseSchema:
    """A schemathesis schema of `document`, with schemathesis' defaults (no config file or environment read)."""
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config())


def served_schema(client: TestClient) -> schemathesis.BaseSchema:
    """The OpenAPI document the app behind `client` serves, as a schemathesis schema."""
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200, response.text
    return load_schema(response.json())


def send(client: TestClient, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Response:
    """Send `case` through the app's test client (and so its lifespan), encoded on the wire as schemathesis'
    own transport encodes it: `requests` prepares the request, the test client carries it."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    prepared = requests.Request(**kwargs).prepare()
    assert prepared.method is not None and prepared.url is not None
    client.cookies.clear()  # bearer only: a sign-in answer sets the web desk's cookies
    return client.request(prepared.method, prepared.url, headers=dict(prepared.headers), content=prepared.body)
