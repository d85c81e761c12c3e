"""Cap'n Proto schema ``rpc-twoparty.capnp`` for capnrpc: generated, do not edit.

Regenerate with ``capnrpc compile``. At import, the schema nodes embedded below are
decoded without pycapnp; the declarations under ``TYPE_CHECKING`` describe the module's
types to type checkers.
"""

from __future__ import annotations

from base64 import b64decode as _b64decode
from typing import TYPE_CHECKING

from capnrpc_core.schema import load_node_messages as _load_node_messages

if TYPE_CHECKING:
    import collections.abc as _abc
    import typing as _t

    from capnrpc_core import schema as _schema
    from capnrpc_core.schema import typed as _typed

    class Side(_schema.Enum):
        _Name: _t.TypeAlias = _t.Literal["server", "client"]
        _Value: _t.TypeAlias = "_Name | _typed.EnumValue"
        server: _t.Final = 0
        client: _t.Final = 1

    class VatId(_typed.Struct["VatId.Reader", "VatId.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["VatId.Builder"]):
            @property
            def side(self) -> _typed.EnumValue: ...

        class Builder(_typed.StructBuilder["VatId.Reader"]):
            @property
            def side(self) -> _typed.EnumValue: ...
            @side.setter
            def side(self, value: Side._Value) -> None: ...

        @classmethod
        def new_message(
            cls, num_first_segment_words: int | None = None, *, side: Side._Value = ...
        ) -> VatId.Builder: ...

    class ProvisionId(_typed.Struct["ProvisionId.Reader", "ProvisionId.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["ProvisionId.Builder"]):
            @property
            def joinId(self) -> int: ...

        class Builder(_typed.StructBuilder["ProvisionId.Reader"]):
            @property
            def joinId(self) -> int: ...
            @joinId.setter
            def joinId(self, value: int) -> None: ...

        @classmethod
        def new_message(
            cls, num_first_segment_words: int | None = None, *, joinId: int = ...
        ) -> ProvisionId.Builder: ...

    class RecipientId(_typed.Struct["RecipientId.Reader", "RecipientId.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["RecipientId.Builder"]):
            pass

        class Builder(_typed.StructBuilder["RecipientId.Reader"]):
            pass

        @classmethod
        def new_message(cls, num_first_segment_words: int | None = None) -> RecipientId.Builder: ...

    class ThirdPartyCapId(_typed.Struct["ThirdPartyCapId.Reader", "ThirdPartyCapId.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["ThirdPartyCapId.Builder"]):
            pass

        class Builder(_typed.StructBuilder["ThirdPartyCapId.Reader"]):
            pass

        @classmethod
        def new_message(
            cls, num_first_segment_words: int | None = None
        ) -> ThirdPartyCapId.Builder: ...

    class JoinKeyPart(_typed.Struct["JoinKeyPart.Reader", "JoinKeyPart.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["JoinKeyPart.Builder"]):
            @property
            def joinId(self) -> int: ...
            @property
            def partCount(self) -> int: ...
            @property
            def partNum(self) -> int: ...

        class Builder(_typed.StructBuilder["JoinKeyPart.Reader"]):
            @property
            def joinId(self) -> int: ...
            @joinId.setter
            def joinId(self, value: int) -> None: ...
            @property
            def partCount(self) -> int: ...
            @partCount.setter
            def partCount(self, value: int) -> None: ...
            @property
            def partNum(self) -> int: ...
            @partNum.setter
            def partNum(self, value: int) -> None: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            joinId: int = ...,
            partCount: int = ...,
            partNum: int = ...,
        ) -> JoinKeyPart.Builder: ...

    class JoinResult(_typed.Struct["JoinResult.Reader", "JoinResult.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["JoinResult.Builder"]):
            @property
            def joinId(self) -> int: ...
            @property
            def succeeded(self) -> bool: ...
            @property
            def cap(self) -> _schema.AnyPointerReader: ...

        class Builder(_typed.StructBuilder["JoinResult.Reader"]):
            @property
            def joinId(self) -> int: ...
            @joinId.setter
            def joinId(self, value: int) -> None: ...
            @property
            def succeeded(self) -> bool: ...
            @succeeded.setter
            def succeeded(self, value: bool) -> None: ...
            @property
            def cap(self) -> _schema.AnyPointerBuilder: ...
            @cap.setter
            def cap(self, value: _t.Any) -> None: ...
            def init(
                self, name: _t.Literal["cap"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            joinId: int = ...,
            succeeded: bool = ...,
            cap: _t.Any = ...,
        ) -> JoinResult.Builder: ...


__all__ = [
    "JoinKeyPart",
    "JoinResult",
    "ProvisionId",
    "RecipientId",
    "Side",
    "ThirdPartyCapId",
    "VatId",
]

_FILE_ID = 0xA184C7885CDAF2A1
_NODES = (
    (  # rpc-twoparty.capnp
        "AAAAAC0AAAAAAAAAAgADAKHy2lyIx4ShDQAAAAAAAAAJAAAAmgAAABEAAAB3AAAAeQAAAB8AAABy",
        "cGMtdHdvcGFydHkuY2FwbnAAAAAAAAAcAAAAAQABAJxxuYe8ntafMQAAACoAAACOOnPun5AL0i0A",
        "AAAyAAAAF5jzxakJjbgpAAAAYgAAAMGCQP22ifOJKQAAAGIAAACdtSxneUl/tCkAAACCAAAAg8p/",
        "CVmQspUpAAAAYgAAAO7rtzA2OiadKQAAAFoAAABTaWRlAAAAAFZhdElkAAAAUHJvdmlzaW9uSWQA",
        "AAAAAFJlY2lwaWVudElkAAAAAABUaGlyZFBhcnR5Q2FwSWQASm9pbktleVBhcnQAAAAAAEpvaW5S",
        "ZXN1bHQAAAAAAAAEAAAAAQACACxfgL+e+ca5BAAAAAEAAQD8////AAAAAAwAAAAAAAAAAQAAAKoA",
        "AABjYXBucDo6cnBjOjp0d29wYXJ0eQAAAAA=",
    ),
    (  # rpc-twoparty.capnp:JoinKeyPart
        "AAAAACsAAAAAAAAABAAEAIPKfwlZkLKVEwAAAAEAAQCh8tpciMeEoQAABwAAAAAADQAAAPoAAAAZ",
        "AAAABwAAAAAAAAAAAAAAFQAAAJcAAABycGMtdHdvcGFydHkuY2FwbnA6Sm9pbktleVBhcnQAAAAA",
        "AAAAAAAADAAAAAIABAAAAAAAAAAAAAAAAQAAAAAAPQAAADoAAAAAAAAAAAAAADgAAAABAAAAOAAA",
        "AAEAAAABAAAAAgAAAAAAAQABAAAAMQAAAFIAAAAAAAAAAAAAADAAAAABAAAAMAAAAAEAAAACAAAA",
        "AwAAAAAAAQACAAAAKQAAAEIAAAAAAAAAAAAAACQAAAABAAAAJAAAAAEAAABqb2luSWQAAAgAAAAA",
        "AAAACAAAAAAAAABwYXJ0Q291bnQAAAAAAAAABwAAAAAAAAAHAAAAAAAAAHBhcnROdW0ABwAAAAAA",
        "AAAHAAAAAAAAAA==",
    ),
    (  # rpc-twoparty.capnp:JoinResult
        "AAAAACwAAAAAAAAABAAEAO7rtzA2OiadEwAAAAEAAQCh8tpciMeEoQEABwAAAAAADQAAAPIAAAAZ",
        "AAAABwAAAAAAAAAAAAAAFQAAAJcAAABycGMtdHdvcGFydHkuY2FwbnA6Sm9pblJlc3VsdAAAAAAA",
        "AAAAAAAADAAAAAIABAAAAAAAAAAAAAAAAQAAAAAAPQAAADoAAAAAAAAAAAAAADgAAAABAAAAOAAA",
        "AAEAAAABAAAAIAAAAAAAAQABAAAAMQAAAFIAAAAAAAAAAAAAADAAAAABAAAAMAAAAAEAAAACAAAA",
        "AAAAAAAAAQACAAAAKQAAACIAAAAAAAAAAAAAACQAAAACAAAAKAAAAAEAAABqb2luSWQAAAgAAAAA",
        "AAAACAAAAAAAAABzdWNjZWVkZWQAAAAAAAAAAQAAAAAAAAABAAAAAAAAAGNhcAAAAAAAEgAAAAAA",
        "AAAAAAMAAAAAABIAAAAAAAAA",
    ),
    (  # rpc-twoparty.capnp:ProvisionId
        "AAAAABgAAAAAAAAABAAEABeY88WpCY24EwAAAAEAAQCh8tpciMeEoQAABwAAAAAADQAAAPoAAAAZ",
        "AAAABwAAAAAAAAAAAAAAFQAAADcAAABycGMtdHdvcGFydHkuY2FwbnA6UHJvdmlzaW9uSWQAAAAA",
        "AAAAAAAABAAAAAIABAAAAAAAAAAAAAAAAQAAAAAADQAAADoAAAAAAAAAAAAAAAgAAAABAAAACAAA",
        "AAEAAABqb2luSWQAAAgAAAAAAAAACAAAAAAAAAA=",
    ),
    (  # rpc-twoparty.capnp:RecipientId
        "AAAAAAwAAAAAAAAABAACAMGCQP22ifOJEwAAAAEAAACh8tpciMeEoQAABwAAAAAABQAAAPoAAAAR",
        "AAAABwAAAHJwYy10d29wYXJ0eS5jYXBucDpSZWNpcGllbnRJZAAAAAAAAAAAAAA=",
    ),
    (  # rpc-twoparty.capnp:Side
        "AAAAABMAAAAAAAAAAwAEAJxxuYe8ntafEwAAAAIAAACh8tpciMeEoQ0AAADCAAAAFQAAAAcAAAAA",
        "AAAAAAAAABEAAAAnAAAAcnBjLXR3b3BhcnR5LmNhcG5wOlNpZGUAAAAAAAAAAAAIAAAAAQABAAAA",
        "AAAAAAAACQAAADoAAAABAAAAAAAAAAUAAAA6AAAAc2VydmVyAABjbGllbnQAAA==",
    ),
    (  # rpc-twoparty.capnp:ThirdPartyCapId
        "AAAAAA0AAAAAAAAABAACAJ21LGd5SX+0EwAAAAEAAACh8tpciMeEoQAABwAAAAAABQAAABoBAAAV",
        "AAAABwAAAHJwYy10d29wYXJ0eS5jYXBucDpUaGlyZFBhcnR5Q2FwSWQAAAAAAAAAAAAAAAAAAA==",
    ),
    (  # rpc-twoparty.capnp:VatId
        "AAAAABkAAAAAAAAABAAEAI46c+6fkAvSEwAAAAEAAQCh8tpciMeEoQAABwAAAAAADQAAAMoAAAAZ",
        "AAAABwAAAAAAAAAAAAAAFQAAADcAAABycGMtdHdvcGFydHkuY2FwbnA6VmF0SWQAAAAAAAAAAAAA",
        "AAAAAAAABAAAAAIABAAAAAAAAAAAAAAAAQAAAAAADQAAACoAAAAAAAAAAAAAAAgAAAACAAAADAAA",
        "AAEAAABzaWRlAAAAAA8AAAAAAAAAnHG5h7ye1p8PAAAAAAAAAA==",
    ),
)

_frames = [_b64decode("".join(parts)) for parts in _NODES]
_module = _load_node_messages(_frames, _FILE_ID, __name__)
schema = _module.schema
schemas = _module.schemas
registry = _module.registry
if not TYPE_CHECKING:
    Side = _module.Side
    VatId = _module.VatId
    ProvisionId = _module.ProvisionId
    RecipientId = _module.RecipientId
    ThirdPartyCapId = _module.ThirdPartyCapId
    JoinKeyPart = _module.JoinKeyPart
    JoinResult = _module.JoinResult
