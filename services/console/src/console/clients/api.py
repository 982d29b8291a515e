"""One client for the four services' HTTP APIs. Every call carries the person's own bearer token; a service's
problem+json comes back as ApiError so a page can show it next to the field it names."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger("console.api")


@dataclass
class ApiError(Exception):
    status: int
    title: str
    detail: str
    fields: dict[str, str] = field(default_factory=dict)
    type: str = ""

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        fields: dict[str, str] = {}
        for error in body.get("errors") or []:
            fields.setdefault(str(error.get("field", "body")), str(error.get("message", "")))
        if body.get("field"):
            fields.setdefault(str(body["field"]), str(body.get("detail", "")))
        return cls(
            status=response.status_code,
            title=str(body.get("title", response.reason_phrase)),
            detail=str(body.get("detail", response.text[:200])),
            fields=fields,
            type=str(body.get("type", "")).rsplit("/", 1)[-1],
        )


class Services:
    """Long-lived connection pools, one per service; shared by every request of the console."""

    def __init__(self, urls: dict[str, str], timeout: float) -> None:
        self.urls = urls
        self.clients = {name: httpx.AsyncClient(base_url=url, timeout=timeout) for name, url in urls.items()}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def as_person(self, token: str) -> Api:
        return Api(self, token)


class Api:
    def __init__(self, services: Services, token: str) -> None:
        self.services = services
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.services.clients[service].request(
                method, path, json=json, params=params, headers=headers, content=content
            )
        except httpx.HTTPError as exc:
            logger.warning("service unreachable", extra={"service": service, "error": type(exc).__name__})
            raise ApiError(503, "Service unavailable", f"{service} did not answer") from None
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json") or response.headers.get(
            "content-type", ""
        ).startswith("application/problem+json"):
            return response.json()
        return response.text

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call(
            service, "GET", path, params={k: v for k, v in params.items() if v is not None}
        )

    async def get_or(self, default: Any, service: str, path: str, **params: Any) -> Any:
        """A read whose failure should not break a whole page: the section shows `default` instead."""
        try:
            return await self.get(service, path, **params)
        except ApiError as exc:
            logger.info("read failed", extra={"service": service, "status": exc.status})
            return default

    async def post(self, service: str, path: str, body: Any = None, *, key: str | None = None) -> Any:
        return await self.call(
            service, "POST", path, json=body if body is not None else {}, idempotency_key=key
        )

    async def put(self, service: str, path: str, body: Any, *, key: str | None = None) -> Any:
        return await self.call(service, "PUT", path, json=body, idempotency_key=key)

    async def patch(self, service: str, path: str, body: Any, *, key: str | None = None) -> Any:
        return await self.call(service, "PATCH", path, json=body, idempotency_key=key)

    async def delete(self, service: str, path: str, *, key: str | None = None) -> Any:
        return await self.call(service, "DELETE", path, idempotency_key=key)

    async def upload(self, service: str, path: str, content: bytes, content_type: str, **params: Any) -> Any:
        """A file sent as the request body (a CSV import), not as JSON."""
        return await self.call(
            service, "POST", path, content=content, content_type=content_type, params=params
        )

    async def text(self, service: str, path: str) -> str:
        response = await self.services.clients[service].get(path, headers=self.headers)
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return response.text
