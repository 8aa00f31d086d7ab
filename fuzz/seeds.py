#!/usr/bin/env python3
"""Seeds for the fuzz targets, extracted from the tests' own data.

    python3 fuzz/seeds.py            # writes fuzz/corpus/<target>/<sha1> (what `cargo fuzz run` reads)
    python3 fuzz/seeds.py --json     # prints {"target": ["base64 seed", ...]} (tests/fuzz_stable.rs)

Sources: the pinned service models (a plausible Query body per operation) and the malformed bodies of
tests/bad_input.rs and tests/robustness.rs; the SigV4 test suite's signed requests (tests/data/sigv4);
the policy corpus and the documents recorded against AWS (crates/policy/tests); the SAML test data
(tests/data/saml); JWTs shaped like the ones tests/oidc_api.rs sends. Inputs with several parts put
them on separate lines, as fuzz/src/lib.rs reads them.
"""

import base64
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(*path, mode="r"):
    with open(os.path.join(ROOT, *path), mode) as f:
        return f.read()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def query_seeds():
    out = []
    for path, version in (("model/iam-2010-05-08.json", "2010-05-08"), ("model/sts-2011-06-15.json", "2011-06-15")):
        model = json.loads(read(path))
        shapes = model["shapes"]
        for name, op in sorted(model["operations"].items()):
            params = [("Action", name), ("Version", version)]
            shape = shapes.get(op.get("input", {}).get("shape", ""), {})
            for member, m in shape.get("members", {}).items():
                s = shapes[m["shape"]]
                if s["type"] == "list":
                    params.append((member + ".member.1", "x"))
                elif s["type"] == "structure":
                    params.append((member + ".Key", "x"))
                elif s["type"] == "integer":
                    params.append((member, str(s.get("min", 1))))
                elif s["type"] == "boolean":
                    params.append((member, "true"))
                else:
                    params.append((member, (s.get("enum") or ["x" * max(1, s.get("min", 1))])[0]))
            out.append("&".join("%s=%s" % kv for kv in params).encode())
    # The malformed bodies and query strings the tests send.
    for test in ("tests/bad_input.rs", "tests/robustness.rs"):
        text = read(test)
        for lit in re.findall(r'b?"((?:Action|/\?)[^"\\]*(?:\\.[^"\\]*)*)"', text):
            out.append(lit.encode().decode("unicode_escape").encode("latin-1", "replace").lstrip(b"/?"))
    return out


def sigv4_seeds():
    header, presigned = [], []
    base = os.path.join(ROOT, "tests/data/sigv4/v4")
    for case in sorted(os.listdir(base)):
        for kind in ("header", "query"):
            path = os.path.join(base, case, kind + "-signed-request.txt")
            if not os.path.exists(path):
                continue
            text = open(path, "rb").read().replace(b"\r\n", b"\n")
            head, _, body = text.partition(b"\n\n")
            lines = head.split(b"\n")
            target = lines[0].split(b" ")[1] if b" " in lines[0] else b"/"
            path_part, _, query = target.partition(b"?")
            fields = {}
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                fields.setdefault(k.strip().lower(), v.strip())
            if kind == "header":
                header.append(b"\n".join([
                    fields.get(b"authorization", b""),
                    fields.get(b"x-amz-date", b""),
                    query,
                    fields.get(b"x-amz-security-token", b""),
                    body,
                ]))
            else:
                presigned.append(b"\n".join([query, path_part, fields.get(b"date", b""), body]))
    # The suite signs for a made-up service; localiam takes iam and sts scopes.
    header += [s.replace(b"/service/", b"/iam/") for s in header]
    presigned += [s.replace(b"%2Fservice%2F", b"%2Fsts%2F") for s in presigned]
    return header, presigned


def policy_seeds():
    read_seeds, eval_seeds = [], []
    data = "crates/policy/tests/data"
    for doc in json.loads(read(data, "accepted-documents.json"))["documents"]:
        read_seeds.append(doc["document"].encode())
    for case in json.loads(read(data, "create-policy-documents.json"))["cases"].values():
        read_seeds.append(case["document"].encode())
    for case in json.loads(read(data, "trust-policy-errors.json"))["cases"]:
        read_seeds.append(case["document"].encode())
    corpus = os.path.join(ROOT, "crates/policy/tests/corpus")
    for f in sorted(os.listdir(corpus)):
        for group in json.loads(read(corpus, f)).get("groups", []):
            policies = [p for key in ("identity", "boundary", "session", "resource") for p in group.get(key) or [] if isinstance(p, dict)]
            for p in policies:
                read_seeds.append(json.dumps(p).encode())
            for case in group.get("cases", []):
                context = ";".join(
                    "%s=%s" % (k, v if not isinstance(v, list) else (v[0] if v else ""))
                    for k, v in (case.get("context") or {}).items()
                )
                for p in policies[:2]:
                    eval_seeds.append("\n".join([
                        case.get("action", ""),
                        case.get("resource", "*"),
                        context,
                        json.dumps(p),
                    ]).encode())
    return read_seeds, eval_seeds


def jwt_seeds():
    out = []
    claims = {"iss": "https://hostile.example.com", "sub": "s", "aud": "sts.amazonaws.com", "iat": 1700000000, "exp": 4100000000}
    for header in ({"alg": "RS256", "kid": "k", "typ": "JWT"}, {"alg": "ES384"}, {"alg": "none"}, {"alg": "HS256"}):
        out.append(b".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(b"signature" * 16)]))
    out.append(json.dumps({"keys": [{"kty": "RSA", "kid": "k", "use": "sig", "alg": "RS256", "n": "sXch", "e": "AQAB"}]}).encode())
    return out


def saml_seeds():
    out = []
    for f in ("xmlsec-signed-response.xml", "xmlsec-template.xml"):
        out.append(read("tests/data/saml", f, mode="rb"))
    cert = "".join(l for l in read("tests/data/saml/idp-cert.pem").splitlines() if not l.startswith("-----"))
    out.append((
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/metadata">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate>'
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>" % cert
    ).encode())
    return out


def seeds():
    header, presigned = sigv4_seeds()
    read_seeds, eval_seeds = policy_seeds()
    return {
        "query": query_seeds(),
        "sigv4_header": header,
        "sigv4_presigned": presigned,
        "policy_read": read_seeds,
        "policy_eval": eval_seeds,
        "jwt": jwt_seeds(),
        "saml": saml_seeds(),
    }


def main():
    all_seeds = seeds()
    if "--json" in sys.argv[1:]:
        json.dump({t: [base64.b64encode(s).decode() for s in v] for t, v in all_seeds.items()}, sys.stdout)
        return
    for target, items in all_seeds.items():
        d = os.path.join(ROOT, "fuzz", "corpus", target)
        os.makedirs(d, exist_ok=True)
        for s in items:
            with open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb") as f:
                f.write(s)
        print("%-16s %4d seeds -> %s" % (target, len(items), os.path.relpath(d, ROOT)))


if __name__ == "__main__":
    main()
