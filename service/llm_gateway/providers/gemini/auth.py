"""OAuth access tokens for Vertex AI, from google-auth.

Credentials come from a service-account key file (`credentials_file`) or
application-default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's
user credentials, the metadata server). google-auth is synchronous, so
loading and refreshing run in a worker thread (asyncio.to_thread); the token
is cached and refreshed only when it is within REFRESH_MARGIN of expiry, one
refresh at a time. google-auth's HTTP goes through httpx (a declared
dependency) instead of `requests`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport
import httpx
from google.oauth2 import service_account

from ...core.errors import UpstreamAuthFailed, UpstreamError, UpstreamUnreachable
from ..http.transport import OutgoingRequest

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REFRESH_MARGIN = dt.timedelta(minutes=5)
TOKEN_TIMEOUT = 30.0


class _Response(google.auth.transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(google.auth.transport.Request):
    """google-auth's transport interface over a synchronous httpx client."""

    def __init__(self) -> None:
        self._client = httpx.Client(timeout=TOKEN_TIMEOUT, follow_redirects=False)

    def __call__(self, url: str, method: str = "GET", body: bytes | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float | None = None,
                 **kwargs: Any) -> _Response:
        try:
            response = self._client.request(method, url, content=body, headers=headers,
                                            timeout=timeout or TOKEN_TIMEOUT)
        except httpx.HTTPError as exc:
            raise google.auth.exceptions.TransportError(
                f"token request failed ({type(exc).__name__})") from exc
        return _Response(response)

    def close(self) -> None:
        self._client.close()


class GoogleTokens:
    """A cached access token for one provider."""

    def __init__(self, provider: str, credentials_file: str | None) -> None:
        self._provider = provider
        self._file = credentials_file
        self._credentials: google.auth.credentials.Credentials | None = None
        self._request = HttpxRequest()
        self._lock = asyncio.Lock()
        # A cancelled caller leaves its refresh running in the thread; the
        # next caller's refresh waits for it instead of racing it.
        self._thread_lock = threading.Lock()

    @property
    def current(self) -> str:
        """The cached token ("" before the first), for redaction."""
        return str(getattr(self._credentials, "token", "") or "")

    def _fresh(self) -> bool:
        creds = self._credentials
        if creds is None or not creds.token:
            return False
        expiry = creds.expiry
        if expiry is None:
            return True
        if expiry.tzinfo is None:  # google-auth keeps naive UTC
            expiry = expiry.replace(tzinfo=dt.UTC)
        return expiry - dt.datetime.now(dt.UTC) > REFRESH_MARGIN

    async def token(self) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another task may have refreshed meanwhile
                    await asyncio.to_thread(self._refresh)
        return self.current

    def _refresh(self) -> None:
        """In a worker thread: load the credentials once, then refresh."""
        with self._thread_lock:
            if self._fresh():
                return
            self._refresh_now()

    def _refresh_now(self) -> None:
        try:
            if self._credentials is None:
                self._credentials = self._load()
            self._credentials.refresh(self._request)
        except google.auth.exceptions.TransportError as exc:
            raise UpstreamUnreachable(f"cannot reach the Google token endpoint: {exc}",
                                      provider=self._provider) from None
        except google.auth.exceptions.GoogleAuthError as exc:
            raise self._auth_failed(f"the Google credentials were refused: {exc}") from None

    def _load(self) -> google.auth.credentials.Credentials:
        if self._file:
            try:
                return service_account.Credentials.from_service_account_file(
                    self._file, scopes=[SCOPE])
            except OSError as exc:
                raise self._auth_failed(
                    f"cannot read credentials_file: {exc.strerror}") from None
            except ValueError:
                raise self._auth_failed(
                    "credentials_file is not a service-account key file") from None
        credentials, _project = google.auth.default(scopes=[SCOPE])
        return credentials

    def _auth_failed(self, message: str) -> UpstreamError:
        return UpstreamAuthFailed(message, provider=self._provider)

    def close(self) -> None:
        self._request.close()


class BearerAuth:
    """Puts a current access token on every upstream request (the upstream
    client's RequestAuth, http/transport.py)."""

    def __init__(self, tokens: GoogleTokens) -> None:
        self._tokens = tokens

    async def apply(self, request: OutgoingRequest) -> None:
        request.headers["authorization"] = f"Bearer {await self._tokens.token()}"
