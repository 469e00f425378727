"""Canonical JSON vectors exchanged with refuge, in both directions.

  generate --seed N --count C --out FILE
      Random JSON documents, each written as JSON text in a random style, with the bytes
      securesystemslib's encode_canonical makes of it. Refuge must produce the same bytes.
  check --in FILE
      FILE holds [{"value": V, "canonical_hex": H}] written by refuge; each H must be
      encode_canonical(V). Prints "checked N".
"""

import argparse
import json
import random
import sys

from interop_common import canonical_bytes, fail, load_json, write_json

# Code points drawn for strings and keys, by weight: what canonical JSON is most likely to get
# wrong (quotes, backslashes, control characters, ordering across UTF-8 lengths and across the
# BMP boundary).
_RANGES = [
    (0x20, 0x7E, 8),        # printable ASCII
    (0x00, 0x1F, 3),        # C0 control characters, raw in canonical JSON
    (0x7F, 0x9F, 1),        # DEL and C1 controls
    (0xA0, 0x7FF, 2),       # two-byte UTF-8
    (0x800, 0xD7FF, 2),     # three-byte UTF-8 below the surrogates
    (0xE000, 0xFFFF, 2),    # three-byte UTF-8 above them, up to U+FFFF
    (0x10000, 0x10FFFF, 3), # four-byte UTF-8 (UTF-16 surrogate pairs)
]
_SPECIALS = ['"', "\\", "/", "\u2028", "\u2029", "\ufeff", "\uffff", "\U0001f600", "\x00"]


def random_char(rng):
    if rng.random() < 0.15:
        return rng.choice(_SPECIALS)
    low, high, _ = rng.choices(_RANGES, weights=[w for _, _, w in _RANGES])[0]
    return chr(rng.randint(low, high))


def random_string(rng, max_length=10):
    return "".join(random_char(rng) for _ in range(rng.randint(0, max_length)))


def random_int(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randint(-10, 10)
    if kind == 1:
        return rng.choice([-(2**63), 2**63 - 1, 2**63, 2**64 - 1, -(2**31), 2**32])
    if kind == 2:
        return rng.randint(-(2**63), -1)
    if kind == 3:
        return rng.randint(0, 2**64 - 1)
    return rng.randint(-(10**6), 10**6)


def random_key(rng, taken):
    # Keys that share prefixes, differ in one character, or straddle the BMP boundary.
    options = [
        lambda: random_string(rng, 6),
        lambda: rng.choice(["a", "ab", "b", "A", "", "_type", "\uffff", "\U00010000", "\u00e9"]),
        lambda: (rng.choice(list(taken)) if taken else "") + random_char(rng),
    ]
    for _ in range(20):
        key = rng.choice(options)()
        if key not in taken:
            return key
    return None


def random_value(rng, depth):
    kinds = ["null", "bool", "int", "string"]
    if depth < 6:
        kinds += ["array", "object", "object"]
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return random_int(rng)
    if kind == "string":
        return random_string(rng)
    if kind == "array":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    result = {}
    for _ in range(rng.randint(0, 6)):
        key = random_key(rng, result.keys())
        if key is not None:
            result[key] = random_value(rng, depth + 1)
    return result


def random_text(rng, value):
    """JSON text of value in a random (valid) style: refuge must not care how it is written."""
    return json.dumps(
        value,
        ensure_ascii=rng.random() < 0.5,
        indent=rng.choice([None, None, 0, 2, "\t"]),
        separators=rng.choice([None, (",", ":"), (" ,\n", " :\t")]),
        sort_keys=rng.random() < 0.3,
    )


# Fixed cases worth having in every run, whatever the seed.
_EDGE_CASES = [
    {},
    [],
    "",
    0,
    None,
    True,
    2**64 - 1,
    -(2**63),
    {"b": 1, "a": 2, "B": 3, "aa": 4, "": 5},
    {"\uffff": 1, "\U00010000": 2, "\ue000": 3, "\ud7ff": 4},
    {"\U0001f600": "\U0001f600", "\uff61": "\uff61"},
    ['"', "\\", '\\"', "\\\\", "/", "\b\f\n\r\t", "".join(chr(c) for c in range(32)), "\x7f"],
    {"signed": {"_type": "root", "keys": {}, "roles": {"root": {"keyids": [], "threshold": 1}}}},
    {"nested": [[[[[[[[{"deep": [1, -1, 0]}]]]]]]]]},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],  # 32 levels: the limit
]


def generate(args):
    rng = random.Random(args.seed)
    values = list(_EDGE_CASES) + [random_value(rng, 0) for _ in range(args.count)]
    vectors = []
    for value in values:
        vectors.append({"json": random_text(rng, value), "canonical_hex": canonical_bytes(value).hex()})
    write_json(args.out, vectors, ensure_ascii=True)
    print(f"wrote {len(vectors)}")


def check(args):
    vectors = load_json(args.path)
    mismatches = 0
    for index, vector in enumerate(vectors):
        expected = canonical_bytes(vector["value"])
        if expected.hex() != vector["canonical_hex"]:
            mismatches += 1
            if mismatches <= 5:
                sys.stderr.write(
                    f"vector {index}: refuge wrote {vector['canonical_hex']}\n"
                    f"  securesystemslib wrote {expected.hex()}\n"
                    f"  value {vector['value']!r}\n"
                )
    if mismatches:
        fail(f"{mismatches} of {len(vectors)} canonical encodings differ")
    print(f"checked {len(vectors)}")


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate")
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--count", type=int, required=True)
    gen.add_argument("--out", required=True)
    chk = commands.add_parser("check")
    chk.add_argument("--in", dest="path", required=True)
    args = parser.parse_args()
    {"generate": generate, "check": check}[args.command](args)


if __name__ == "__main__":
    main()
