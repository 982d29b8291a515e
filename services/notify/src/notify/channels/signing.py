"""Request signing of the two SMS providers, pure functions so the published examples can be checked byte for byte.

- Alibaba Cloud RPC style (signature version 1.0): `Base64(HMAC-SHA1(secret + "&", StringToSign))` where
  `StringToSign = METHOD + "&" + pe("/") + "&" + pe(canonicalised query)`, parameters sorted by name and
  percent-encoded per RFC 3986 (space as %20, `*` as %2A, `~` kept).
- Tencent Cloud API 3.0 (TC3-HMAC-SHA256): a canonical request hashed with SHA-256, signed with a key derived
  from `"TC3" + SecretKey` over the UTC date, the service and `tc3_request`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote


def percent_encode(value: str) -> str:
    """Alibaba's POP encoding: RFC 3986 unreserved characters stay, everything else is %XY of its UTF-8 bytes."""
    return quote(value, safe="-_.~")


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def aliyun_signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    string_to_sign = aliyun_string_to_sign(method, params)
    mac = hmac.new(f"{access_key_secret}&".encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    content_type: str,
    payload: bytes,
    timestamp: int,
    method: str = "POST",
    query: str = "",
) -> str:
    """The `Authorization` header value for a Tencent Cloud API 3.0 request signed over content-type and host."""
    signed_headers = "content-type;host"
    canonical_request = "\n".join(
        [
            method.upper(),
            "/",
            query,
            f"content-type:{content_type}\nhost:{host}\n",
            signed_headers,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")  # the UTC date, never the local one
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, "
        f"Signature={signature}"
    )
