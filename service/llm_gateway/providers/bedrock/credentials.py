"""AWS credentials for SigV4, resolved off the event loop and cached.

botocore's credential chain may block: it reads files, runs SSO token
refreshes and calls the instance metadata service. Resolution and refresh
therefore run in a worker thread (`asyncio.to_thread`); the frozen result is
cached and reused until botocore says the credentials are close to expiry
(`RefreshableCredentials.refresh_needed`, a clock comparison). One lock
makes concurrent requests wait for a single refresh instead of starting many.
"""

from __future__ import annotations

import asyncio

import botocore.session
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from ...core.errors import UpstreamAuthFailed


class AwsCredentials:
    def __init__(self, provider: str, *, static: Credentials | None = None,
                 profile: str | None = None) -> None:
        self._provider = provider
        self._profile = profile
        # The botocore credentials object (static, or refreshable from the
        # chain); None until first resolved.
        self._source: Credentials | None = static
        self._frozen: ReadOnlyCredentials | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> ReadOnlyCredentials:
        frozen = self._frozen
        if frozen is not None and not self._refresh_needed():
            return frozen
        async with self._lock:
            # Another request may have refreshed while this one waited.
            if self._frozen is None or self._refresh_needed():
                self._frozen = await asyncio.to_thread(self._resolve)
            return self._frozen

    def secret_values(self) -> list[str]:
        frozen = self._frozen
        if frozen is None:
            return []
        return [v for v in (frozen.secret_key, frozen.token) if v]

    def _refresh_needed(self) -> bool:
        source = self._source
        return isinstance(source, RefreshableCredentials) and source.refresh_needed()

    def _resolve(self) -> ReadOnlyCredentials:
        """Runs in a worker thread: may read files or call AWS endpoints."""
        try:
            if self._source is None:
                session = botocore.session.Session(profile=self._profile)
                self._source = session.get_credentials()
            if self._source is None:
                raise UpstreamAuthFailed(
                    "no AWS credentials found (environment, shared profile, SSO, container "
                    "or instance role); configure one, or a bearer_token",
                    provider=self._provider)
            # Refreshes (blocking) when the credentials are about to expire.
            return self._source.get_frozen_credentials()
        except (BotoCoreError, ClientError) as exc:
            # The exception type and message name the profile or the failing
            # step, never a secret.
            raise UpstreamAuthFailed(f"cannot load AWS credentials: {exc}",
                                     provider=self._provider) from None
