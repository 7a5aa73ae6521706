"""An OIDC issuer that mints ES256 ID tokens shaped like GitHub Actions' ones.

It serves what a relying party (our local CA) needs: the discovery document and the JWKS.
It also mimics the Actions runtime's token-request endpoint, so that sigstore-python's
ambient credential detection (`ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN`) runs unmodified.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from corpus.sigstore_local._http import HTTPError, LoopbackServer, Request, Response
from corpus.sigstore_local._keys import key_id

GITHUB_URL = "https://github.com"
DISCOVERY_PATH = "/.well-known/openid-configuration"
_JWKS_PATH = "/.well-known/jwks"
_TOKEN_REQUEST_PATH = "/_actions/token"


@dataclass(frozen=True)
class WorkflowRun:
    """The GitHub Actions run a token speaks for."""

    repository: str
    sha: str
    workflow: str = "publish.yml"
    ref: str = "refs/heads/main"
    event_name: str = "push"

    def __post_init__(self) -> None:
        owner, _, name = self.repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must look like 'owner/name', got {self.repository!r}")
        if len(self.sha) != 40 or any(c not in "0123456789abcdef" for c in self.sha):
            raise ValueError(f"sha must be a 40-character lowercase hex commit id, got {self.sha!r}")
        if not self.ref.startswith("refs/"):
            raise ValueError(f"ref must be a full git ref such as 'refs/heads/main', got {self.ref!r}")

    @property
    def workflow_ref(self) -> str:
        """`owner/repo/.github/workflows/<file>@<ref>`, GitHub's `workflow_ref` claim."""
        return _workflow_ref(self.repository, self.workflow, self.ref)


def _workflow_ref(repository: str, workflow: str, ref: str) -> str:
    return f"{repository}/.github/workflows/{workflow}@{ref}"


def workflow_identity(repository: str, workflow: str, ref: str) -> str:
    """The certificate identity (SAN URI) Fulcio derives from a run's `job_workflow_ref`."""
    return f"{GITHUB_URL}/{_workflow_ref(repository, workflow, ref)}"


def _stable_id(text: str) -> str:
    """A numeric id that stays the same for the same name, like GitHub's repository ids."""
    return str(int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big"))


class OIDCIssuer:
    """Mints ID tokens with a signing key that exists only in this object."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._kid = key_id(self._key.public_key()).hex()[:16]
        self._pending_runs: dict[str, tuple[WorkflowRun, str | None]] = {}
        self._lock = threading.Lock()
        self._server = LoopbackServer(
            "oidc",
            {
                ("GET", DISCOVERY_PATH): self._discovery,
                ("GET", _JWKS_PATH): self._jwks,
                ("GET", _TOKEN_REQUEST_PATH): self._token_request,
            },
        )

    @property
    def url(self) -> str:
        """The issuer URL: the `iss` claim of tokens minted without an override."""
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
        with self._lock:
            self._pending_runs.clear()

    def mint(
        self,
        run: WorkflowRun,
        *,
        issuer: str | None = None,
        audience: str = "sigstore",
        email: str | None = None,
        lifetime_seconds: int = 300,
    ) -> str:
        """An ID token carrying the claims GitHub Actions puts in its tokens for `run`."""
        now = int(time.time())
        owner = run.repository.split("/")[0]
        run_id = _stable_id(f"{run.repository}@{run.sha}")
        claims: dict[str, Any] = {
            "iss": issuer or self.url,
            "aud": audience,
            "sub": f"repo:{run.repository}:ref:{run.ref}",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now - 5,
            "exp": now + lifetime_seconds,
            "ref": run.ref,
            "ref_type": "tag" if run.ref.startswith("refs/tags/") else "branch",
            "sha": run.sha,
            "repository": run.repository,
            "repository_id": _stable_id(run.repository),
            "repository_owner": owner,
            "repository_owner_id": _stable_id(owner),
            "repository_visibility": "private",
            "actor": owner,
            "actor_id": _stable_id(owner),
            "run_id": run_id,
            "run_number": "1",
            "run_attempt": "1",
            "event_name": run.event_name,
            "workflow": run.workflow.rsplit(".", 1)[0],
            "workflow_ref": run.workflow_ref,
            "workflow_sha": run.sha,
            "job_workflow_ref": run.workflow_ref,
            "job_workflow_sha": run.sha,
            "runner_environment": "github-hosted",
        }
        if email is not None:
            claims["email"] = email
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self._kid})

    def register_run(self, run: WorkflowRun, *, issuer: str | None) -> tuple[str, str]:
        """Let the Actions token-request endpoint serve tokens for `run`.

        Returns `(request_url, request_token)`: the values GitHub puts in
        `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        """
        request_token = secrets.token_urlsafe(32)
        with self._lock:
            self._pending_runs[request_token] = (run, issuer)
        return f"{self.url}{_TOKEN_REQUEST_PATH}", request_token

    def _discovery(self, _: Request) -> Response:
        # Modelled on GitHub's document: no authorization or token endpoint, since
        # tokens come from the runtime (or `mint`), never from an interactive flow.
        return Response(
            {
                "issuer": self.url,
                "jwks_uri": f"{self.url}{_JWKS_PATH}",
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "claims_supported": [
                    "sub",
                    "aud",
                    "exp",
                    "iat",
                    "iss",
                    "jti",
                    "nbf",
                    "ref",
                    "sha",
                    "repository",
                    "workflow_ref",
                    "job_workflow_ref",
                    "event_name",
                ],
                "scopes_supported": ["openid"],
            }
        )

    def _jwks(self, _: Request) -> Response:
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self._kid, "use": "sig", "alg": "ES256"})
        return Response({"keys": [jwk]})

    def _token_request(self, request: Request) -> Response:
        with self._lock:
            pending = self._pending_runs.get(request.bearer_token())
        if pending is None:
            raise HTTPError(HTTPStatus.UNAUTHORIZED, "unknown Actions token-request token")
        run, issuer = pending
        audience = request.query.get("audience", "sigstore")
        return Response({"value": self.mint(run, issuer=issuer, audience=audience)})
