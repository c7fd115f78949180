"""MSK IAM tokens from AWS's own Python signer, for the differential test.

Reads JSON lines {"id", "access_key_id", "secret_access_key", "session_token" (or null),
"region", "time" (epoch seconds), "user_agent" (or null: the signer's own)} on standard
input and writes {"id", "token", "expiry_ms", "user_agent"} lines: the token that
aws_msk_iam_sasl_signer.MSKAuthTokenProvider makes through its public API
(generate_auth_token_from_credentials_provider), with botocore's clock frozen at "time".

    python msk_signer_tokens.py --user-agent     prints the signer's user agent only
"""
import datetime
import json
import sys

import botocore.auth
from botocore.credentials import CredentialProvider, Credentials

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as signer

OWN_USER_AGENT = signer.__get_user_agent__


class FixedCredentials(CredentialProvider):
    METHOD = "differential-test"

    def __init__(self, creds):
        super().__init__()
        self._creds = creds

    def load(self):
        return self._creds


def main():
    if sys.argv[1:] == ["--user-agent"]:
        print(OWN_USER_AGENT())
        return
    for line in sys.stdin:
        case = json.loads(line)
        at = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc)
        # freeze botocore's signing clock (SigV4QueryAuth.add_auth reads it once)
        botocore.auth.get_current_datetime = lambda remove_tzinfo=True, at=at: (
            at.replace(tzinfo=None) if remove_tzinfo else at)
        ua = case.get("user_agent")
        signer.__get_user_agent__ = (lambda ua=ua: ua) if ua is not None else OWN_USER_AGENT
        creds = Credentials(case["access_key_id"], case["secret_access_key"],
                            case.get("session_token"))
        token, expiry_ms = signer.generate_auth_token_from_credentials_provider(
            case["region"], FixedCredentials(creds))
        print(json.dumps({"id": case["id"], "token": token, "expiry_ms": expiry_ms,
                          "user_agent": signer.__get_user_agent__()}))


if __name__ == "__main__":
    main()
