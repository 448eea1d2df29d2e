"""What the federation tests share (test_federation.py, and the agent's
token-exchange tests in test_agent.py): a foreign token issuer
(tests/federation/mock_issuer.js, npm jose; its fixture, mock, is in
conftest.py), the claim rules and trusted issuer acme's tests use, and the
exchange request. Imported by test modules, as helpers.py is."""
import json
import os
import subprocess
import time

import requests

from helpers import ROOT, remember_secret

MOCK = os.path.join(ROOT, "tests", "federation", "mock_issuer.js")
TI = "/v1/orgs/acme/trusted-issuers"
SUB = "repo:acme/api:ref:refs/heads/main"
PR_SUB = "repo:acme/api:pull_request"
AUD = "https://latchkey.example/acme"
GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"


class Mock:
    """The mock issuer, a Node process on a loopback port (http: latchkey
    trusts it only under --dev). sign() returns a token it signed for the
    claims given (by default SUB, AUD, five minutes); see mock_issuer.js for
    the keys."""

    def __init__(self):
        self.proc = subprocess.Popen(["node", MOCK], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.issuer = info["issuer"]

    def sign(self, key="es", kid=None, **claims):
        body = {"key": key, "claims": dict({"sub": SUB, "aud": AUD, "exp": int(time.time()) + 300}, **claims)}
        if kid:
            body["kid"] = kid
        r = requests.post(self.issuer + "/sign", json=body, timeout=10)
        assert r.status_code == 200, r.text
        remember_secret(r.text)
        return r.text

    def jwks(self):
        return requests.get(self.issuer + "/jwks", timeout=10).json()

    def count(self):
        return requests.get(self.issuer + "/count", timeout=10).json()["jwks"]

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def rules(**extra):
    """SUB (and extra claims) maps to payments/deployer; PR_SUB to payments/reader."""
    return [{"claims": dict({"sub": SUB}, **extra), "team": "payments", "service_account": "deployer"},
            {"claims": {"sub": PR_SUB}, "team": "payments", "service_account": "reader"}]


def trust(server, mock, token, name="ci", inline=True, **over):
    """POSTs a trusted issuer for the mock to acme (the answer, unchecked):
    its key set inline, or by jwks_uri; rules(); over replaces fields."""
    body = {"name": name, "issuer": mock.issuer, "audience": AUD, "rules": rules()}
    if inline:
        body["jwks"] = mock.jwks()
    else:
        body["jwks_uri"] = mock.issuer + "/jwks"
    body.update(over)
    return server.post(TI, token=token, json=body)


def exchange(server, subject, org="acme", headers=None, **extra):
    """POST /v1/oauth/token as a form; extra adds parameters (None drops one)."""
    data = {"grant_type": GRANT, "subject_token": subject, "subject_token_type": JWT_TYPE, "org": org}
    data.update(extra)
    data = {k: v for k, v in data.items() if v is not None}
    return requests.post(server.url + "/v1/oauth/token", data=data, headers=headers or {}, timeout=10)
