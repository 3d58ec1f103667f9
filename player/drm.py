"""HLS AES-128: segments encrypted whole with AES-128-CBC (RFC 8216 section 5.2), decrypted here.

The key comes from the playlist's EXT-X-KEY URI, fetched by the caller's `fetch_key` (the
player sends its JWT to the backend's key endpoint, never to the CDN) and cached per URI.
CENC/cbcs (fMP4 sample encryption, METHOD=SAMPLE-AES-CTR / SAMPLE-AES) is decrypted by
libmpv's demuxer with the ClearKey licence's key instead, so those segments pass through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from abr.manifests import HlsKey

FetchKey = Callable[[str], Awaitable[bytes]]

# Sample encryption (CENC/cbcs in fMP4): the demuxer decrypts with the ClearKey licence's key.
DEMUXER_DECRYPTS = frozenset({"SAMPLE-AES", "SAMPLE-AES-CTR"})


class DecryptionError(Exception):
    """A segment cannot be decrypted; the message names the segment and why."""


class HlsAes128:
    def __init__(self, keys: dict[str, tuple[HlsKey | None, ...]], fetch_key: FetchKey) -> None:
        self.keys = keys  # per rendition id, the key in force for each segment (None: clear)
        self.fetch_key = fetch_key
        self._cache: dict[str, bytes] = {}

    @property
    def needed(self) -> bool:
        return any(
            k is not None and k.method not in DEMUXER_DECRYPTS
            for ks in self.keys.values()
            for k in ks
        )

    async def decrypt(self, rendition_id: str, index: int, data: bytes, where: str) -> bytes:
        per_segment = self.keys.get(rendition_id, ())
        key = per_segment[index] if index < len(per_segment) else None
        if key is None or key.method in DEMUXER_DECRYPTS:
            return data
        if key.method != "AES-128":
            raise DecryptionError(f"{where}: {key.method} encryption is not supported")
        if key.uri is None or key.iv is None:
            raise DecryptionError(f"{where}: EXT-X-KEY has no URI or IV")
        if key.uri not in self._cache:
            material = await self.fetch_key(key.uri)
            if len(material) != 16:
                raise DecryptionError(
                    f"{where}: the key from {key.uri} is {len(material)} bytes, not 16"
                )
            self._cache[key.uri] = material
        iv = bytes.fromhex(key.iv.removeprefix("0x").removeprefix("0X"))
        if len(data) % 16:
            raise DecryptionError(f"{where}: {len(data)} bytes is not a whole number of AES blocks")
        decryptor = Cipher(algorithms.AES(self._cache[key.uri]), modes.CBC(iv)).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise DecryptionError(
                f"{where}: bad padding after decryption (wrong key for {key.uri}?)"
            ) from None
