#!/usr/bin/env python3
"""Extracts the AWS managed policies (AWS's public policy data) from the installed `moto` package into
localiam's embedded catalogue, `data/aws-managed-policies/policies.json.gz`.

    python3 tools/extract_aws_managed_policies.py            # rewrite the catalogue
    python3 tools/extract_aws_managed_policies.py --check    # exit 1 if rewriting would change it
    python3 tools/extract_aws_managed_policies.py --moto DIR # take moto from DIR (its package directory)

Only data is taken: moto (Apache-2.0) carries the policies as one JSON text in
`moto/iam/aws_managed_policies.py`; the file is read as text and its string literal parsed with `ast`
(nothing of moto is imported or run). See data/aws-managed-policies/NOTICE.md.

Each entry of the output (a JSON array ordered by lowercased name) is
`{"name", "path", "id", "version", "created", "updated", "document"}`:
- `id` is derived from the ARN (moto has no policy IDs): `ANPA` and the first 17 characters of the
  base32 (A-Z, 2-7) SHA-256 of `arn:aws:iam::aws:policy<path><name>`, so it is the same in every
  version of the data, and attachments stored by ID survive a refresh of the catalogue;
- `created` / `updated` are AWS's CreateDate / UpdateDate in Unix seconds (moto has no per-version
  dates: the default version is dated `updated`);
- `document` is the default version's document as compact JSON text.
"""
import argparse
import ast
import base64
import datetime
import gzip
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "aws-managed-policies", "policies.json.gz")


def default_moto_dir():
    import importlib.util

    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("moto is not installed: pass --moto DIR")
    return list(spec.submodule_search_locations)[0]


def moto_data(moto_dir):
    path = os.path.join(moto_dir, "iam", "aws_managed_policies.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "aws_managed_policies_data" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return json.loads(node.value.value)
    sys.exit(f"{path}: no aws_managed_policies_data string")


def policy_id(path, name):
    arn = f"arn:aws:iam::aws:policy{path}{name}"
    digest = hashlib.sha256(arn.encode()).digest()
    return "ANPA" + base64.b32encode(digest).decode()[:17]


def unix(date):
    return int(datetime.datetime.fromisoformat(date).timestamp())


def catalogue(data):
    out = []
    for name, p in data.items():
        path = p["Path"]
        out.append(
            {
                "name": name,
                "path": path,
                "id": policy_id(path, name),
                "version": p["DefaultVersionId"],
                "created": unix(p["CreateDate"]),
                "updated": unix(p["UpdateDate"]),
                "document": json.dumps(p["Document"], separators=(",", ":"), ensure_ascii=False),
            }
        )
    out.sort(key=lambda p: (p["name"].lower(), p["path"]))
    lowered = [p["name"].lower() for p in out]
    if len(set(lowered)) != len(lowered):
        sys.exit("two policies share a name (case-insensitively)")
    if len({p["id"] for p in out}) != len(out):
        sys.exit("two derived policy IDs collide")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto", help="moto's package directory")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    policies = catalogue(moto_data(args.moto or default_moto_dir()))
    text = json.dumps(policies, separators=(",", ":"), ensure_ascii=False).encode()
    blob = gzip.compress(text, compresslevel=9, mtime=0)
    if args.check:
        with open(OUT, "rb") as f:
            same = gzip.decompress(f.read()) == text
        print("up to date" if same else f"{OUT} is stale")
        sys.exit(0 if same else 1)
    with open(OUT, "wb") as f:
        f.write(blob)
    print(f"{len(policies)} policies, {len(text)} bytes, {len(blob)} compressed -> {OUT}")


if __name__ == "__main__":
    main()
