"""Send the requests for some hosts to other addresses, keeping their URL and Host header.

How the player goes through a trace-shaped link (`streamlab play --trace`): the link relays
bytes to one host, and the player's requests for that host (the manifest, media named by
relative or absolute URL, the API) connect to the link instead. Unlike an HTTP proxy, the
server still gets ordinary origin-form requests, which every server understands.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

Address = tuple[str, int]  # host, port
DEFAULT_PORTS = {"http": 80, "https": 443}


class ReroutingTransport(httpx.AsyncBaseTransport):
    def __init__(self, routes: Mapping[Address, Address], inner: httpx.AsyncBaseTransport) -> None:
        self.routes = dict(routes)
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        target = self.routes.get((url.host, url.port or DEFAULT_PORTS.get(url.scheme, 80)))
        if target is not None:
            # The Host header was set from the original URL when the request was built.
            request.url = url.copy_with(host=target[0], port=target[1])
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
