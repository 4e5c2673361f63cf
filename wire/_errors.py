"""The codec's one exception."""

from __future__ import annotations

#: Said after an offset that counts from the start of an SK payload's decrypted contents.
IN_SK = " of the decrypted SK payload"


class WireError(Exception):
    """Bytes that do not decode, or an abstract message the wire cannot carry.

    ``offset`` is the byte offset of the offending field (``None`` at encode
    time), ``where`` says what it counts from (the datagram, unless it is
    :data:`IN_SK`), ``field`` names the field and ``problem`` says what is wrong.
    """

    def __init__(self, offset: int | None, field: str, problem: str, where: str = "") -> None:
        self.offset, self.field, self.problem, self.where = offset, field, problem, where
        at = "" if offset is None else f"offset {offset}{where}: "
        super().__init__(f"{at}{field}: {problem}")
