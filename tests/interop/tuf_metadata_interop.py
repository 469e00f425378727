"""TUF metadata exchanged between refuge and securesystemslib + PyNaCl.

  verify-root --in FILE --out SUMMARY
      FILE is a root metadata file written by refuge. Checks, the way an independent client
      would: every signature is over encode_canonical(signed) and verifies with PyNaCl against
      the public key listed under its key ID; every key ID is sha256(encode_canonical(key));
      the root threshold is met; changing "signed" breaks every signature. Writes a summary.
  make-root --seed N --out-dir DIR
      Writes metadata made here (PyNaCl keys, key IDs and signatures computed here):
        root.json                 2 of 3 root keys sign, threshold 2, plus a signature by the
                                  timestamp key (not a root key)
        root_below_threshold.json root key 0 signs twice, the timestamp key once: 1 distinct
                                  valid root signature, below the threshold of 2
        root_tampered.json        root.json with "signed" changed after signing
        timestamp.json            signed by the timestamp key
        expected.json             key IDs per role and the canonical bytes of each "signed"
"""

import argparse
import hashlib
import os
import random

import nacl.exceptions
import nacl.signing

from interop_common import canonical_bytes, fail, load_json, write_json

_ROLES = ["root", "timestamp", "snapshot", "targets"]
# Unicode, quotes, backslashes and a control character in a field that signatures cover.
_NOTE = 'Gr\u00fc\u00dfe \U0001f510 \u65e5\u672c "quoted" back\\slash \x01 end'


def key_object(verify_key):
    return {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": verify_key.encode().hex()}}


def key_id(key):
    return hashlib.sha256(canonical_bytes(key)).hexdigest()


def signature_of(signing_key, keyid, signed):
    return {"keyid": keyid, "sig": signing_key.sign(canonical_bytes(signed)).signature.hex()}


def verify_root(args):
    document = load_json(args.path)
    signed = document["signed"]
    canonical = canonical_bytes(signed)
    keys = signed["keys"]
    problems = []

    for keyid, key in keys.items():
        if key_id(key) != keyid:
            problems.append(f"key ID {keyid} is not sha256 of the canonical key ({key_id(key)})")
        if key.get("keytype") != "ed25519" or key.get("scheme") != "ed25519":
            problems.append(f"key {keyid} is not an ed25519 key: {key}")
    for role in _ROLES:
        for keyid in signed["roles"][role]["keyids"]:
            if keyid not in keys:
                problems.append(f"role {role} lists unknown key ID {keyid}")

    root_role = signed["roles"]["root"]
    valid_root_keyids = set()
    tampered = dict(signed, version=signed["version"] + 1)
    tampered_valid = 0
    for signature in document["signatures"]:
        keyid = signature["keyid"]
        if keyid not in keys:
            problems.append(f"signature by unknown key ID {keyid}")
            continue
        verify_key = nacl.signing.VerifyKey(bytes.fromhex(keys[keyid]["keyval"]["public"]))
        raw = bytes.fromhex(signature["sig"])
        try:
            verify_key.verify(canonical, raw)
        except nacl.exceptions.BadSignatureError:
            problems.append(f"signature by {keyid} does not verify over encode_canonical(signed)")
            continue
        if keyid in root_role["keyids"]:
            valid_root_keyids.add(keyid)
        try:
            verify_key.verify(canonical_bytes(tampered), raw)
            tampered_valid += 1
        except nacl.exceptions.BadSignatureError:
            pass
    if len(valid_root_keyids) < root_role["threshold"]:
        problems.append(
            f"{len(valid_root_keyids)} valid root signature(s), threshold {root_role['threshold']}"
        )
    if tampered_valid:
        problems.append(f"{tampered_valid} signature(s) still verify after changing the version")
    if problems:
        fail("\n".join(problems))

    write_json(
        args.out,
        {
            "valid_root_signatures": len(valid_root_keyids),
            "root_threshold": root_role["threshold"],
            "key_ids_checked": len(keys),
            "canonical_hex": canonical.hex(),
        },
    )
    print(f"verified {len(valid_root_keyids)} root signature(s)")


def make_root(args):
    rng = random.Random(args.seed)
    signing_keys = {role: [] for role in _ROLES}
    for role in _ROLES:
        for _ in range(3 if role == "root" else 1):
            signing_keys[role].append(nacl.signing.SigningKey(rng.randbytes(32)))

    keys = {}
    keyids = {role: [] for role in _ROLES}
    for role in _ROLES:
        for signing_key in signing_keys[role]:
            key = key_object(signing_key.verify_key)
            keys[key_id(key)] = key
            keyids[role].append(key_id(key))

    root_signed = {
        "_type": "root",
        "spec_version": "1.0.31",
        "version": 1,
        "expires": "2030-01-01T00:00:00Z",
        "consistent_snapshot": True,
        "keys": keys,
        "roles": {
            role: {"keyids": keyids[role], "threshold": 2 if role == "root" else 1}
            for role in _ROLES
        },
        "x-interop-note": _NOTE,
    }
    root_keys = signing_keys["root"]
    timestamp_key = signing_keys["timestamp"][0]
    timestamp_keyid = keyids["timestamp"][0]

    root = {
        "signed": root_signed,
        "signatures": [
            signature_of(root_keys[0], keyids["root"][0], root_signed),
            signature_of(timestamp_key, timestamp_keyid, root_signed),
            signature_of(root_keys[1], keyids["root"][1], root_signed),
        ],
    }
    below_threshold = {
        "signed": root_signed,
        "signatures": [
            signature_of(root_keys[0], keyids["root"][0], root_signed),
            signature_of(root_keys[0], keyids["root"][0], root_signed),
            signature_of(timestamp_key, timestamp_keyid, root_signed),
        ],
    }
    tampered = {"signed": dict(root_signed, version=2), "signatures": root["signatures"]}

    timestamp_signed = {
        "_type": "timestamp",
        "spec_version": "1.0.31",
        "version": 7,
        "expires": "2030-01-02T03:04:05Z",
        "meta": {"snapshot.json": {"version": 3}},
    }
    timestamp = {
        "signed": timestamp_signed,
        "signatures": [signature_of(timestamp_key, timestamp_keyid, timestamp_signed)],
    }

    out = args.out_dir
    # Written in different styles on purpose: \u escapes with indentation, and raw UTF-8.
    write_json(os.path.join(out, "root.json"), root, indent=2, ensure_ascii=True)
    write_json(os.path.join(out, "root_below_threshold.json"), below_threshold, ensure_ascii=False)
    write_json(os.path.join(out, "root_tampered.json"), tampered, ensure_ascii=False)
    write_json(
        os.path.join(out, "timestamp.json"), timestamp, ensure_ascii=False, separators=(",", ":")
    )
    write_json(
        os.path.join(out, "expected.json"),
        {
            "keyids": keyids,
            "root_canonical_hex": canonical_bytes(root_signed).hex(),
            "timestamp_canonical_hex": canonical_bytes(timestamp_signed).hex(),
        },
    )
    print("wrote root.json, root_below_threshold.json, root_tampered.json, timestamp.json")


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    verify_parser = commands.add_parser("verify-root")
    verify_parser.add_argument("--in", dest="path", required=True)
    verify_parser.add_argument("--out", required=True)
    make_parser = commands.add_parser("make-root")
    make_parser.add_argument("--seed", type=int, required=True)
    make_parser.add_argument("--out-dir", required=True)
    args = parser.parse_args()
    {"verify-root": verify_root, "make-root": make_root}[args.command](args)


if __name__ == "__main__":
    main()
