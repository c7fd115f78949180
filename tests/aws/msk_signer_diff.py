"""Differential test of lc_msk_iam_token against AWS's Python signer: random cases, then
a byte-for-byte comparison of the two programs' tokens and expiry times.

    msk_signer_diff.py gen COUNT SEED SIGNER_USER_AGENT > cases.jsonl
    msk_signer_diff.py compare cases.jsonl ours.jsonl theirs.jsonl

Cases: access key ids like AWS's (AKIA/ASIA + 16) and arbitrary ones, secrets of the
base64 alphabet and arbitrary printable or non-ASCII text, no session token or one of up
to 2,000 characters, real and made-up regions, signing times from 2000 to 2100, the
signer's own user agent or arbitrary ones (spaces, symbols, non-ASCII).
"""
import base64
import json
import random
import sys

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
           "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
           "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "sa-east-1",
           "ca-central-1", "me-south-1", "af-south-1", "cn-north-1", "cn-northwest-1",
           "us-gov-west-1", "il-central-1"]
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7f))
EXOTIC = PRINTABLE + "\t\u00e9\u00df\u65e5\u672c\u20ac\U0001f600"


def text(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def case(rng, i, own_ua):
    if rng.random() < 0.7:
        ak = rng.choice(["AKIA", "ASIA"]) + text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16)
    else:
        ak = text(rng, PRINTABLE, 1, 40)
    sk = text(rng, B64, 40, 40) if rng.random() < 0.7 else text(rng, EXOTIC, 1, 60)
    r = rng.random()
    if r < 0.35:
        token = None
    elif r < 0.85:
        raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(12, 1500)))
        token = base64.b64encode(raw).decode()
    else:
        token = text(rng, EXOTIC, 1, 300)
    if rng.random() < 0.85:
        region = rng.choice(REGIONS)
    else:
        region = text(rng, "abcdefghijklmnopqrstuvwxyz0123456789-", 1, 20)
    ua = own_ua if rng.random() < 0.7 else text(rng, EXOTIC, 1, 80)
    return {"id": i, "access_key_id": ak, "secret_access_key": sk, "session_token": token,
            "region": region, "time": rng.randint(946684800, 4102444799), "user_agent": ua}


def gen(count, seed, own_ua):
    rng = random.Random(seed)
    for i in range(count):
        print(json.dumps(case(rng, i, own_ua)))


def load(path):
    with open(path, encoding="utf-8") as f:
        return {o["id"]: o for o in map(json.loads, f)}


def decoded(token):
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def compare(cases_path, ours_path, theirs_path):
    cases, ours, theirs = load(cases_path), load(ours_path), load(theirs_path)
    same = differ = 0
    with_token = sum(1 for c in cases.values() if c["session_token"] is not None)
    for i, c in sorted(cases.items()):
        a, b = ours.get(i, {}), theirs.get(i, {})
        if a.get("token") == b.get("token") and a.get("expiry_ms") == b.get("expiry_ms") \
                and a.get("token"):
            same += 1
            continue
        differ += 1
        if differ <= 3:
            print(f"case {i}: tokens differ (region {c['region']}, time {c['time']}, "
                  f"session token: {c['session_token'] is not None})")
            for name, o in (("ours", a), ("AWS's", b)):
                if "token" in o:
                    print(f"  {name:6} expiry {o['expiry_ms']}: {decoded(o['token'])}")
                else:
                    print(f"  {name:6} {o.get('error', 'no answer')}")
    regions = len({c["region"] for c in cases.values()})
    print(f"compared {len(cases)} tokens ({with_token} with a session token, {regions} "
          f"regions): {same} identical, {differ} different")
    return 0 if differ == 0 and same == len(cases) and same > 0 else 1


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "compare":
        sys.exit(compare(*sys.argv[2:5]))
    else:
        sys.exit("usage: msk_signer_diff.py gen COUNT SEED UA | compare CASES OURS THEIRS")
