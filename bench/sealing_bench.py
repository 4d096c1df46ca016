"""What sealing personal values costs: v2 (AES-SIV, place-bound) against v1 and raw AES-GCM.

    python -m bench.sealing_bench                    # 20,000 values of 200 characters
    python -m bench.sealing_bench --values 50000 --length 2000

Each figure is values per second on this machine, in one run:

* ``aes-gcm raw``: one AES-256-GCM encryption with a random nonce, the floor of any AEAD here;
* ``v1 seal`` / ``v1 open``: the previous format (HMAC-derived nonce, AES-GCM, person only);
* ``v2 seal`` / ``v2 open``: today's (HKDF subkey, AES-256-SIV, person, stream, event and
  field as associated data);
* ``v2 open, 2 paths``: opening where a read model allows two source fields and the token
  came from the second (the worst case of `vault.store.PersonalDataVault.open_values`).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.personal import SealedToken, parse_token
from vault.crypto import CannotOpen, Place, open_text, open_value, seal_text, seal_value


def _rate(label: str, count: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    rate = count / (time.perf_counter() - started)
    print(f"  {label:<20} {rate:>12,.0f} values/s")
    return rate


def main() -> None:
    """Print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=20_000)
    parser.add_argument("--length", type=int, default=200, help="characters per value")
    arguments = parser.parse_args()
    count, text = arguments.values, "x" * arguments.length
    key = os.urandom(32)
    events = [uuid.uuid4() for _ in range(count)]
    places = [Place("p-1", "mentorship-c-p-1", event, "GoalSet.description") for event in events]
    print(f"sealing {count:,} values of {arguments.length} characters")

    gcm = AESGCM(key)
    raw = _rate(
        "aes-gcm raw",
        count,
        lambda: [gcm.encrypt(os.urandom(12), text.encode(), b"p-1") for _ in range(count)],
    )
    v1 = [seal_text(key, "p-1", text, str(event)) for event in events]
    v2 = [seal_value(key, text, place) for place in places]
    _rate("v1 seal", count, lambda: [seal_text(key, "p-1", text, str(e)) for e in events])
    v1_open = _rate("v1 open", count, lambda: [open_text(key, token) for token in map(_token, v1)])
    v2_seal = _rate("v2 seal", count, lambda: [seal_value(key, text, place) for place in places])
    v2_open = _rate(
        "v2 open",
        count,
        lambda: [
            open_value(key, _token(token), "mentorship-c-p-1", "GoalSet.description")
            for token in v2
        ],
    )

    def second_path() -> None:
        for token in v2:
            parsed = _token(token)
            try:
                open_value(key, parsed, "mentorship-c-p-1", "GoalRevised.description")
            except CannotOpen:
                open_value(key, parsed, "mentorship-c-p-1", "GoalSet.description")

    _rate("v2 open, 2 paths", count, second_path)
    print(
        f"v2 seal at {v2_seal / raw:.0%} of raw AES-GCM; v2 open at {v2_open / v1_open:.0%} of v1"
    )


def _token(value: str) -> SealedToken:
    token = parse_token(value)
    assert token is not None
    return token


if __name__ == "__main__":
    main()
