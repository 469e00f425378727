"""Ed25519 signatures exchanged between PyNaCl (libsodium) and refuge (OpenSSL).

  sign --seed N --count C --out FILE
      C keys from seeds chosen here, each signing a message (random bytes, or the canonical
      JSON of a small object). Writes [{"seed", "public", "message", "signature"}] in hex.
  verify --in FILE
      FILE holds [{"public", "message", "signature"}] in hex, signed by refuge. Each must
      verify with PyNaCl, and must stop verifying when the message or the signature has a bit
      flipped. Prints "verified N".
"""

import argparse
import random
import sys

import nacl.exceptions
import nacl.signing

from interop_common import canonical_bytes, fail, load_json, write_json


def random_message(rng, index):
    if index % 3 == 0:
        return canonical_bytes(
            {"_type": "timestamp", "version": rng.randint(1, 2**40), "note": "\u00e9\U0001f600\"\\"}
        )
    return rng.randbytes(rng.choice([0, 1, 31, 32, 33, 64, 127, 1000, rng.randint(0, 4096)]))


def sign(args):
    rng = random.Random(args.seed)
    vectors = []
    for index in range(args.count):
        seed = rng.randbytes(32)
        key = nacl.signing.SigningKey(seed)
        message = random_message(rng, index)
        vectors.append(
            {
                "seed": seed.hex(),
                "public": key.verify_key.encode().hex(),
                "message": message.hex(),
                "signature": key.sign(message).signature.hex(),
            }
        )
    write_json(args.out, vectors)
    print(f"wrote {len(vectors)}")


def flip_last_bit(data):
    return data[:-1] + bytes([data[-1] ^ 1])


def rejects(verify_key, message, signature):
    try:
        verify_key.verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        return True
    return False


def verify(args):
    vectors = load_json(args.path)
    problems = []
    for index, vector in enumerate(vectors):
        public = bytes.fromhex(vector["public"])
        message = bytes.fromhex(vector["message"])
        signature = bytes.fromhex(vector["signature"])
        verify_key = nacl.signing.VerifyKey(public)
        try:
            verify_key.verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            problems.append(f"vector {index}: PyNaCl rejects refuge's signature {vector}")
            continue
        if not rejects(verify_key, message + b"\x00", signature):
            problems.append(f"vector {index}: a longer message still verifies")
        if message and not rejects(verify_key, flip_last_bit(message), signature):
            problems.append(f"vector {index}: a flipped message bit still verifies")
        if not rejects(verify_key, message, flip_last_bit(signature[:32]) + signature[32:]):
            problems.append(f"vector {index}: a flipped signature bit still verifies")
    if problems:
        fail("\n".join(problems[:10]) + f"\n{len(problems)} problem(s) in {len(vectors)} vectors")
    print(f"verified {len(vectors)}")


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    sign_parser = commands.add_parser("sign")
    sign_parser.add_argument("--seed", type=int, required=True)
    sign_parser.add_argument("--count", type=int, required=True)
    sign_parser.add_argument("--out", required=True)
    verify_parser = commands.add_parser("verify")
    verify_parser.add_argument("--in", dest="path", required=True)
    args = parser.parse_args()
    {"sign": sign, "verify": verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
