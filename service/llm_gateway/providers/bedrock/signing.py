"""SigV4 request signing, done by botocore.

`SigV4` is the upstream client's request auth (http/transport.py
RequestAuth): it waits for the credentials (resolved off the loop, see
credentials.py), then has botocore's `SigV4Auth` sign the request
exactly as it will be sent (method, URL with its percent-encoded path, body
bytes, content type). botocore computes the canonical request, the hashes and
the HMAC chain; nothing here is cryptography.

Only `content-type` (and the `x-amz-*` headers botocore adds) are signed
besides `host`: headers a proxy may rewrite (accept-encoding, connection) are
left unsigned, as the SDKs do.
"""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from ..http.transport import OutgoingRequest
from .credentials import AwsCredentials

# Both the runtime and the control plane sign as "bedrock".
SERVICE = "bedrock"
# Headers botocore adds while signing, copied onto the outgoing request.
_ADDED = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


def sign(request: OutgoingRequest, credentials: ReadOnlyCredentials, region: str) -> None:
    """Adds the SigV4 headers to `request`, over its exact URL and body."""
    headers = {}
    content_type = next((v for k, v in request.headers.items()
                         if k.lower() == "content-type"), None)
    if content_type is not None:
        headers["Content-Type"] = content_type
    aws = AWSRequest(method=request.method, url=request.url, data=request.body or b"",
                     headers=headers)
    SigV4Auth(credentials, SERVICE, region).add_auth(aws)
    for name in _ADDED:
        value = aws.headers.get(name)
        if value is not None:
            request.headers[name.lower()] = value


class SigV4:
    def __init__(self, credentials: AwsCredentials, region: str) -> None:
        self._credentials = credentials
        self._region = region

    async def apply(self, request: OutgoingRequest) -> None:
        sign(request, await self._credentials.get(), self._region)
