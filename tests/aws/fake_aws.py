"""A small stand-in for the AWS credential services, on 127.0.0.1, for tests:

  EC2 instance metadata (IMDSv2)
    PUT /latest/api/token                  needs X-aws-ec2-metadata-token-ttl-seconds
                                           (1..21600, else 400); answers a session token
    GET /latest/meta-data/iam/security-credentials/[ROLE]
                                           needs X-aws-ec2-metadata-token (else 401)
  ECS container credentials
    GET /ecs/<anything>                    relative URI (169.254.170.2 in production)
    GET /full/<anything>                   full URI; needs Authorization: <ecs_auth>
  STS
    POST /sts/                             AssumeRole, SigV4-checked (this file's own
                                           check) against the secret of the caller's key;
                                           AssumeRoleWithWebIdentity, unsigned, with
                                           WebIdentityToken = <web_token>

Credentials it hands out are new on every fetch (a counter in the key id) and expire
`ttl` seconds after it; every secret holds a marker (S3KR1T, T0K3N) that tests look for
in logs. Control: POST /_admin/config (JSON merged into the settings), GET /_admin/log
(the requests so far), POST /_admin/reset. Prints its port on the first line of standard
output; exits when standard input closes.
"""
import datetime
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "lc-test-role"
DEFAULTS = {
    "ttl": 3600,                # credential lifetime, seconds
    "imds_mode": "v2",          # v2 | v1only (PUT -> 403) | hang | garbage | expired_code
    "ecs_auth": "ECSAUTH-t0ken",
    "ecs_mode": "ok",           # ok | garbage | 500
    "sts_keys": {},             # access key id -> secret, for checking signatures
    "sts_tokens": {},           # access key id -> session token it must send
    "web_token": "WEBID-t0ken",  # the web identity token AssumeRoleWithWebIdentity wants
    "fixed_keys": None,         # {"AccessKeyId", "SecretAccessKey"}: hand these out (with a
                                # new session token each time), e.g. keys a broker knows
}
lock = threading.Lock()
settings = dict(DEFAULTS)
log = []
counter = {"n": 0}
imds_tokens = set()


def new_credentials(kind):
    with lock:
        counter["n"] += 1
        n = counter["n"]
        ttl = settings["ttl"]
        fixed = settings["fixed_keys"]
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=ttl)
    c = {
        "AccessKeyId": f"ASIALC{kind}{n:06d}",
        "SecretAccessKey": f"{kind}-S3KR1T-{n}-{secrets.token_hex(8)}",
        "Token": f"{kind}-T0K3N-{n}-{secrets.token_urlsafe(24)}",
        "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if fixed:
        c.update(fixed)
    return c


def sigv4_ok(method, path, headers, body, secret):
    """Checks an Authorization header of a header-signed request (written for these tests,
    from AWS's description of SigV4)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    scope = fields["Credential"].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    signed = fields["SignedHeaders"].split(";")
    lower = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    canon_headers = "".join(f"{h}:{lower.get(h, '')}\n" for h in signed)
    canonical = "\n".join([method, path, "", canon_headers, ";".join(signed),
                           hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", lower.get("x-amz-date", ""), scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, fields["Signature"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, body=b""):
        entry = {"method": self.command, "path": self.path,
                 "headers": {k: v for k, v in self.headers.items()},
                 "t": time.time()}
        if not self.path.startswith("/_admin"):
            with lock:
                log.append(entry)
        return entry

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # ---- admin ----
    def admin(self, body):
        global settings
        if self.path == "/_admin/config":
            with lock:
                settings.update(json.loads(body or b"{}"))
            return self.reply(200, "{}")
        if self.path == "/_admin/log":
            with lock:
                return self.reply(200, json.dumps(log))
        if self.path == "/_admin/reset":
            with lock:
                settings = dict(DEFAULTS)
                log.clear()
                imds_tokens.clear()
            return self.reply(200, "{}")
        return self.reply(404, "{}")

    # ---- IMDS ----
    def imds(self):
        mode = settings["imds_mode"]
        if mode == "hang":
            time.sleep(5)
            return self.reply(200, "late")
        if self.command == "PUT" and self.path == "/latest/api/token":
            if mode == "v1only":
                return self.reply(403, "")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.reply(400, "")
            token = "IMDSTOK-" + secrets.token_urlsafe(16)
            with lock:
                imds_tokens.add(token)
            return self.reply(200, token, "text/plain")
        if self.command != "GET":
            return self.reply(405, "")
        if mode != "v1only":
            with lock:
                ok = self.headers.get("X-aws-ec2-metadata-token") in imds_tokens
            if not ok:
                return self.reply(401, "")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, ROLE + "\n", "text/plain")
        if self.path == base + ROLE:
            if mode == "garbage":
                # a broken answer that holds a secret: must not reach an error message
                # (a JSON parser's message quotes the text where it stops: the secret)
                return self.reply(200, '{"AccessKeyId": "ASIALCX", "SecretAccessKey" '
                                       '"garbage-S3KR1T-leak", "Token": "garbage-T0K3N"}')
            c = new_credentials("IMDS")
            c.update({"Code": "Expired" if mode == "expired_code" else "Success",
                      "Type": "AWS-HMAC", "LastUpdated": "2020-01-01T00:00:00Z"})
            return self.reply(200, json.dumps(c))
        return self.reply(404, "")

    # ---- ECS ----
    def ecs(self):
        if self.path.startswith("/full/") and \
                self.headers.get("Authorization") != settings["ecs_auth"]:
            return self.reply(401, '{"message": "bad token"}')
        if settings["ecs_mode"] == "500":
            return self.reply(500, "{}")
        if settings["ecs_mode"] == "garbage":
            return self.reply(200, '{"AccessKeyId": "ASIALCX", "SecretAccessKey": "a" '
                                   '"ecs-S3KR1T-leak"}')
        c = new_credentials("ECS")
        c["RoleArn"] = "arn:aws:iam::123456789012:role/ecs"
        return self.reply(200, json.dumps(c))

    # ---- STS ----
    def sts(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        auth = self.headers.get("Authorization", "")
        key_id = auth.split("Credential=", 1)[-1].split("/", 1)[0]
        with lock:
            secret = settings["sts_keys"].get(key_id)
            want_token = settings["sts_tokens"].get(key_id)
        def error(code, msg):
            return self.reply(403, f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                                   f"<Message>{msg}</Message></Error></ErrorResponse>", "text/xml")
        if form.get("Action") == "AssumeRoleWithWebIdentity" and form.get("Version") == "2011-06-15":
            if "Authorization" in self.headers:
                return error("InvalidParameterValue", "AssumeRoleWithWebIdentity is not signed.")
            if form.get("WebIdentityToken") != settings["web_token"]:
                return error("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider.")
            return self.sts_credentials("AssumeRoleWithWebIdentity", form)
        if form.get("Action") != "AssumeRole" or form.get("Version") != "2011-06-15":
            return self.reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>",
                              "text/xml")
        if secret is None:
            return error("InvalidClientTokenId", "The security token included in the request is invalid.")
        if want_token is not None and self.headers.get("X-Amz-Security-Token") != want_token:
            return error("InvalidClientTokenId", "The session token does not match.")
        if not sigv4_ok("POST", "/sts/", dict(self.headers.items()), body, secret):
            return error("SignatureDoesNotMatch", "The request signature we calculated does not match.")
        return self.sts_credentials("AssumeRole", form)

    def sts_credentials(self, action, form):
        c = new_credentials("STS")
        xml = (f"<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>"
               f"<AssumedRoleUser><Arn>{form.get('RoleArn')}/{form.get('RoleSessionName')}</Arn></AssumedRoleUser>"
               f"<Credentials><AccessKeyId>{c['AccessKeyId']}</AccessKeyId>"
               f"<SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>"
               f"<SessionToken>{c['Token']}&amp;x</SessionToken>"
               f"<Expiration>{c['Expiration'].replace('Z', '.000Z')}</Expiration></Credentials>"
               f"</{action}Result></{action}Response>")
        return self.reply(200, xml, "text/xml")

    def dispatch(self):
        body = self.body()
        self.record(body)
        if self.path.startswith("/_admin/"):
            return self.admin(body)
        if self.path.startswith("/latest/"):
            return self.imds()
        if self.path.startswith("/ecs/") or self.path.startswith("/full/"):
            return self.ecs()
        if self.path.startswith("/sts/"):
            return self.sts(body)
        return self.reply(404, "{}")

    do_GET = do_PUT = do_POST = dispatch


def main():
    if len(sys.argv) > 1:       # --config JSON: initial settings
        DEFAULTS.update(json.loads(sys.argv[2]))
        settings.update(DEFAULTS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()     # until the test closes our standard input


if __name__ == "__main__":
    main()
