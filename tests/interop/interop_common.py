"""Shared by the interop scripts: Debian's reference implementations, and strict JSON I/O.

The scripts run under /usr/bin/python3 (Debian's interpreter) because that is the one that can
import the Debian packages python3-securesystemslib and python3-nacl. If either is missing the
script exits with MISSING_DEPENDENCY_EXIT and says which packages to install; the C++ side turns
that into a test failure, never a skip.

Exit statuses: 0 success, 1 a check failed (details on stderr), 2 bad usage, 3 missing package.
"""

import json
import sys

MISSING_DEPENDENCY_EXIT = 3

try:
    import nacl
    import nacl.exceptions
    import nacl.signing
    import securesystemslib
    from securesystemslib.formats import encode_canonical
except ImportError as error:
    sys.stderr.write(
        f"{sys.executable} cannot import {error.name!r}: the interop tests need the Debian "
        "packages python3-securesystemslib and python3-nacl "
        "(apt-get install python3-securesystemslib python3-nacl)\n"
    )
    sys.exit(MISSING_DEPENDENCY_EXIT)


def canonical_bytes(value):
    """The bytes TUF signs: securesystemslib's canonical JSON, UTF-8 encoded."""
    return encode_canonical(value).encode("utf-8")


def _refuse_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _refuse_float(text):
    raise ValueError(f"floating-point number {text} in an exchange file")


def load_json(path):
    """Reads an exchange file written by the C++ side; as strict as refuge's own parser."""
    with open(path, "rb") as f:
        return json.loads(
            f.read().decode("utf-8"),
            object_pairs_hook=_refuse_duplicates,
            parse_float=_refuse_float,
            parse_constant=_refuse_float,
        )


def write_json(path, value, **dump_options):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, **dump_options)


def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)


if __name__ == "__main__":
    print(f"python {sys.version.split()[0]} at {sys.executable}")
    print(f"securesystemslib {securesystemslib.__version__} at {securesystemslib.__file__}")
    print(f"nacl {nacl.__version__} at {nacl.__file__}")
