"""A synchronous scim2-client engine over httpx (scim2-client ships one for httpx2 only).

scim2-tester drives the server through a `BaseSyncSCIMClient`; this one sends its requests
with an ``httpx.Client`` to the API served by uvicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from scim2_client import BaseSyncSCIMClient
from scim2_client.client import RawResponse
from scim2_client.errors import RequestNetworkException


@contextmanager
def _network_errors() -> Iterator[None]:
    try:
        yield
    except httpx.RequestError as error:
        network = RequestNetworkException()
        network.add_note(str(error))
        raise network from error


class HttpxSCIMClient(BaseSyncSCIMClient):
    """`BaseSyncSCIMClient` sending with an ``httpx.Client`` (its ``base_url`` is ``/scim/v2``)."""

    def __init__(self, client: httpx.Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        try:
            url = self.client.build_request("GET", endpoint).url
        except httpx.InvalidURL:
            return False
        return url.host == base.host and url.port == base.port and url.path.startswith(base.path)

    def _parse_json(self, response: RawResponse) -> Any:
        assert isinstance(response, httpx.Response)
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request."""
        with _network_errors():
            return self.client.request(method, url, **kwargs)
