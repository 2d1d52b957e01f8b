"""REST routes of the key vault: each user manages their own secrets; a value is never sent back.

The app binds who is calling: `make_router(current_user_id=…, vault_service=…)`, where `current_user_id` is a
FastAPI dependency returning the signed-in user's id (401 when nobody is signed in) and `vault_service` one
returning the desk's `VaultService`. `writer_user_id` (default: `current_user_id`) guards the routes that change
something, so a read-only role can be refused there (403).

    GET    /vault/kinds            the secrets the vault accepts and their formats
    GET    /vault/secrets          the caller's secrets, masked
    PUT    /vault/secrets/{name}   add or replace one ({"value": "…"}); answers it masked
    DELETE /vault/secrets/{name}   delete one (204)

There is no route that reveals a value: adapters call `VaultService.reveal` in-process.
"""

# no `from __future__ import annotations`: FastAPI must see the dependencies built inside `make_router`

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from marketdesk.deps import SessionDep, refusals
from marketdesk.vault.checks import KINDS
from marketdesk.vault.schemas import SecretKindOut, SecretOut, SecretPut
from marketdesk.vault.service import VaultService

SecretName = Annotated[str, Path(min_length=1, max_length=64, description="e.g. alpaca_key_id")]


def make_router(
    current_user_id: Callable[..., Any],
    vault_service: Callable[..., Any],
    *,
    writer_user_id: Callable[..., Any] | None = None,
) -> APIRouter:
    """The vault's routes, bound to the app's authentication and to its `VaultService`."""
    router = APIRouter(prefix="/vault", tags=["key vault"])
    reader = Annotated[str, Depends(current_user_id)]
    writer = Annotated[str, Depends(writer_user_id or current_user_id)]
    vault_dep = Annotated[VaultService, Depends(vault_service)]

    @router.get("/kinds", response_model=list[SecretKindOut])
    async def list_kinds(user_id: reader) -> list[SecretKindOut]:
        """The secrets the vault accepts, with what a valid value looks like."""
        return [SecretKindOut.of(kind) for kind in KINDS.values()]

    @router.get("/secrets", response_model=list[SecretOut])
    async def list_secrets(user_id: reader, vault: vault_dep, session: SessionDep) -> list[SecretOut]:
        """Your secrets: names, providers and masked hints, never the values."""
        return [SecretOut.of(info) for info in await vault.list(session, user_id)]

    @router.put("/secrets/{name}", response_model=SecretOut, responses=refusals(403))
    async def put_secret(
        name: SecretName, body: SecretPut, user_id: writer, vault: vault_dep, session: SessionDep, request: Request
    ) -> SecretOut:
        """Add or replace one of your secrets; it is checked offline against its provider's format."""
        info = await vault.put(session, user_id, name, body.value.get_secret_value(), ip=_client_ip(request))
        return SecretOut.of(info)

    @router.delete("/secrets/{name}", status_code=204, response_class=Response, responses=refusals(403, 404))
    async def delete_secret(
        name: SecretName, user_id: writer, vault: vault_dep, session: SessionDep, request: Request
    ) -> Response:
        """Delete one of your secrets."""
        await vault.delete(session, user_id, name, ip=_client_ip(request))
        return Response(status_code=204)

    return router


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""
