"""Personal data protection: per-person data keys, sealing, opening and forgetting.

Envelope encryption: each person has a random AES-256 data key, stored wrapped (encrypted)
by a master key from settings. Personal fields of events are sealed with their person's data
key before they reach the event store, so the store, the bus and the read models hold only
ciphertext. Forgetting a person deletes their key (crypto-shredding).
"""

from vault.crypto import KeySource, open_text, seal_text
from vault.store import PersonalDataVault, migrate_vault

__all__ = ["KeySource", "PersonalDataVault", "migrate_vault", "open_text", "seal_text"]
