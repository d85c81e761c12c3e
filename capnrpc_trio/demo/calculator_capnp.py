"""Cap'n Proto schema ``calculator.capnp`` for capnrpc: generated, do not edit.

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

    class Calculator(_typed.Client):
        class Expression(
            _typed.Struct["Calculator.Expression.Reader", "Calculator.Expression.Builder"]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Call(_typed.Group):
                _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

                class Reader(_typed.StructReader["Calculator.Expression.Call.Builder"]):
                    @property
                    def function(self) -> Calculator.Function: ...
                    @property
                    def params(self) -> _typed.ListReader[Calculator.Expression.Reader]: ...

                class Builder(_typed.StructBuilder["Calculator.Expression.Call.Reader"]):
                    @property
                    def function(self) -> Calculator.Function: ...
                    @function.setter
                    def function(
                        self, value: Calculator.Function | Calculator.Function.Server | None
                    ) -> None: ...
                    @property
                    def params(
                        self,
                    ) -> _typed.ListBuilder[
                        Calculator.Expression.Builder, Calculator.Expression._Value | None
                    ]: ...
                    @params.setter
                    def params(
                        self, value: _abc.Sequence[Calculator.Expression._Value | None] | None
                    ) -> None: ...
                    def init(
                        self, name: _t.Literal["params"], size: int
                    ) -> _typed.ListBuilder[
                        Calculator.Expression.Builder, Calculator.Expression._Value | None
                    ]: ...

            class _Which(_schema.UnionMember):
                _Name: _t.TypeAlias = _t.Literal["literal", "previous", "parameter", "call"]

                def __call__(self) -> Calculator.Expression._Which._Name: ...

            class Reader(_typed.StructReader["Calculator.Expression.Builder"]):
                @property
                def literal(self) -> float: ...
                @property
                def previous(self) -> Calculator.Value: ...
                @property
                def parameter(self) -> int: ...
                @property
                def call(self) -> Calculator.Expression.Call.Reader: ...
                @property
                def which(self) -> Calculator.Expression._Which: ...

            class Builder(_typed.StructBuilder["Calculator.Expression.Reader"]):
                @property
                def literal(self) -> float: ...
                @literal.setter
                def literal(self, value: float) -> None: ...
                @property
                def previous(self) -> Calculator.Value: ...
                @previous.setter
                def previous(
                    self, value: Calculator.Value | Calculator.Value.Server | None
                ) -> None: ...
                @property
                def parameter(self) -> int: ...
                @parameter.setter
                def parameter(self, value: int) -> None: ...
                @property
                def call(self) -> Calculator.Expression.Call.Builder: ...
                @call.setter
                def call(self, value: Calculator.Expression.Call._Value) -> None: ...
                @property
                def which(self) -> Calculator.Expression._Which: ...
                def init(
                    self, name: _t.Literal["call"], size: None = None
                ) -> Calculator.Expression.Call.Builder: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                literal: float = ...,
                previous: Calculator.Value | Calculator.Value.Server | None = ...,
                parameter: int = ...,
                call: Calculator.Expression.Call._Value = ...,
            ) -> Calculator.Expression.Builder: ...

        class Value(_typed.Client):
            class _read_Params(
                _typed.Struct[
                    "Calculator.Value._read_Params.Reader", "Calculator.Value._read_Params.Builder"
                ]
            ):
                _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

                class Reader(_typed.StructReader["Calculator.Value._read_Params.Builder"]):
                    pass

                class Builder(_typed.StructBuilder["Calculator.Value._read_Params.Reader"]):
                    pass

                @classmethod
                def new_message(
                    cls, num_first_segment_words: int | None = None
                ) -> Calculator.Value._read_Params.Builder: ...

            class _read_Results(
                _typed.Struct[
                    "Calculator.Value._read_Results.Reader",
                    "Calculator.Value._read_Results.Builder",
                ]
            ):
                _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

                class Reader(_typed.StructReader["Calculator.Value._read_Results.Builder"]):
                    @property
                    def value(self) -> float: ...

                class Builder(_typed.StructBuilder["Calculator.Value._read_Results.Reader"]):
                    @property
                    def value(self) -> float: ...
                    @value.setter
                    def value(self, value: float) -> None: ...

                class _Promise(_typed.Promise["Calculator.Value._read_Results.Reader"]):
                    pass

                @classmethod
                def new_message(
                    cls, num_first_segment_words: int | None = None, *, value: float = ...
                ) -> Calculator.Value._read_Results.Builder: ...

            def read(self) -> Calculator.Value._read_Results._Promise: ...

            class Server(_typed.Server):
                pass

        class Function(_typed.Client):
            class _call_Params(
                _typed.Struct[
                    "Calculator.Function._call_Params.Reader",
                    "Calculator.Function._call_Params.Builder",
                ]
            ):
                _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

                class Reader(_typed.StructReader["Calculator.Function._call_Params.Builder"]):
                    @property
                    def params(self) -> _typed.ListReader[float]: ...

                class Builder(_typed.StructBuilder["Calculator.Function._call_Params.Reader"]):
                    @property
                    def params(self) -> _typed.ListBuilder[float, float]: ...
                    @params.setter
                    def params(self, value: _abc.Sequence[float] | None) -> None: ...
                    def init(
                        self, name: _t.Literal["params"], size: int
                    ) -> _typed.ListBuilder[float, float]: ...

                @classmethod
                def new_message(
                    cls,
                    num_first_segment_words: int | None = None,
                    *,
                    params: _abc.Sequence[float] | None = ...,
                ) -> Calculator.Function._call_Params.Builder: ...

            class _call_Results(
                _typed.Struct[
                    "Calculator.Function._call_Results.Reader",
                    "Calculator.Function._call_Results.Builder",
                ]
            ):
                _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

                class Reader(_typed.StructReader["Calculator.Function._call_Results.Builder"]):
                    @property
                    def value(self) -> float: ...

                class Builder(_typed.StructBuilder["Calculator.Function._call_Results.Reader"]):
                    @property
                    def value(self) -> float: ...
                    @value.setter
                    def value(self, value: float) -> None: ...

                class _Promise(_typed.Promise["Calculator.Function._call_Results.Reader"]):
                    pass

                @classmethod
                def new_message(
                    cls, num_first_segment_words: int | None = None, *, value: float = ...
                ) -> Calculator.Function._call_Results.Builder: ...

            def call(
                self, params: _abc.Sequence[float] | None = ...
            ) -> Calculator.Function._call_Results._Promise: ...

            class Server(_typed.Server):
                pass

        class Operator(_schema.Enum):
            _Name: _t.TypeAlias = _t.Literal["add", "subtract", "multiply", "divide", "power"]
            _Value: _t.TypeAlias = "_Name | _typed.EnumValue"
            add: _t.Final = 0
            subtract: _t.Final = 1
            multiply: _t.Final = 2
            divide: _t.Final = 3
            power: _t.Final = 4

        class _evaluate_Params(
            _typed.Struct[
                "Calculator._evaluate_Params.Reader", "Calculator._evaluate_Params.Builder"
            ]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Reader(_typed.StructReader["Calculator._evaluate_Params.Builder"]):
                @property
                def expression(self) -> Calculator.Expression.Reader: ...

            class Builder(_typed.StructBuilder["Calculator._evaluate_Params.Reader"]):
                @property
                def expression(self) -> Calculator.Expression.Builder: ...
                @expression.setter
                def expression(self, value: Calculator.Expression._Value | None) -> None: ...
                def init(
                    self, name: _t.Literal["expression"], size: None = None
                ) -> Calculator.Expression.Builder: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                expression: Calculator.Expression._Value | None = ...,
            ) -> Calculator._evaluate_Params.Builder: ...

        class _evaluate_Results(
            _typed.Struct[
                "Calculator._evaluate_Results.Reader", "Calculator._evaluate_Results.Builder"
            ]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Reader(_typed.StructReader["Calculator._evaluate_Results.Builder"]):
                @property
                def value(self) -> Calculator.Value: ...

            class Builder(_typed.StructBuilder["Calculator._evaluate_Results.Reader"]):
                @property
                def value(self) -> Calculator.Value: ...
                @value.setter
                def value(
                    self, value: Calculator.Value | Calculator.Value.Server | None
                ) -> None: ...

            class _Promise(_typed.Promise["Calculator._evaluate_Results.Reader"]):
                @property
                def value(self) -> Calculator.Value: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                value: Calculator.Value | Calculator.Value.Server | None = ...,
            ) -> Calculator._evaluate_Results.Builder: ...

        class _defFunction_Params(
            _typed.Struct[
                "Calculator._defFunction_Params.Reader", "Calculator._defFunction_Params.Builder"
            ]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Reader(_typed.StructReader["Calculator._defFunction_Params.Builder"]):
                @property
                def paramCount(self) -> int: ...
                @property
                def body(self) -> Calculator.Expression.Reader: ...

            class Builder(_typed.StructBuilder["Calculator._defFunction_Params.Reader"]):
                @property
                def paramCount(self) -> int: ...
                @paramCount.setter
                def paramCount(self, value: int) -> None: ...
                @property
                def body(self) -> Calculator.Expression.Builder: ...
                @body.setter
                def body(self, value: Calculator.Expression._Value | None) -> None: ...
                def init(
                    self, name: _t.Literal["body"], size: None = None
                ) -> Calculator.Expression.Builder: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                paramCount: int = ...,
                body: Calculator.Expression._Value | None = ...,
            ) -> Calculator._defFunction_Params.Builder: ...

        class _defFunction_Results(
            _typed.Struct[
                "Calculator._defFunction_Results.Reader", "Calculator._defFunction_Results.Builder"
            ]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Reader(_typed.StructReader["Calculator._defFunction_Results.Builder"]):
                @property
                def func(self) -> Calculator.Function: ...

            class Builder(_typed.StructBuilder["Calculator._defFunction_Results.Reader"]):
                @property
                def func(self) -> Calculator.Function: ...
                @func.setter
                def func(
                    self, value: Calculator.Function | Calculator.Function.Server | None
                ) -> None: ...

            class _Promise(_typed.Promise["Calculator._defFunction_Results.Reader"]):
                @property
                def func(self) -> Calculator.Function: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                func: Calculator.Function | Calculator.Function.Server | None = ...,
            ) -> Calculator._defFunction_Results.Builder: ...

        class _getOperator_Params(
            _typed.Struct[
                "Calculator._getOperator_Params.Reader", "Calculator._getOperator_Params.Builder"
            ]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Reader(_typed.StructReader["Calculator._getOperator_Params.Builder"]):
                @property
                def op(self) -> _typed.EnumValue: ...

            class Builder(_typed.StructBuilder["Calculator._getOperator_Params.Reader"]):
                @property
                def op(self) -> _typed.EnumValue: ...
                @op.setter
                def op(self, value: Calculator.Operator._Value) -> None: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                op: Calculator.Operator._Value = ...,
            ) -> Calculator._getOperator_Params.Builder: ...

        class _getOperator_Results(
            _typed.Struct[
                "Calculator._getOperator_Results.Reader", "Calculator._getOperator_Results.Builder"
            ]
        ):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class Reader(_typed.StructReader["Calculator._getOperator_Results.Builder"]):
                @property
                def func(self) -> Calculator.Function: ...

            class Builder(_typed.StructBuilder["Calculator._getOperator_Results.Reader"]):
                @property
                def func(self) -> Calculator.Function: ...
                @func.setter
                def func(
                    self, value: Calculator.Function | Calculator.Function.Server | None
                ) -> None: ...

            class _Promise(_typed.Promise["Calculator._getOperator_Results.Reader"]):
                @property
                def func(self) -> Calculator.Function: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                func: Calculator.Function | Calculator.Function.Server | None = ...,
            ) -> Calculator._getOperator_Results.Builder: ...

        def evaluate(
            self, expression: Calculator.Expression._Value | None = ...
        ) -> Calculator._evaluate_Results._Promise: ...
        def defFunction(
            self, paramCount: int = ..., body: Calculator.Expression._Value | None = ...
        ) -> Calculator._defFunction_Results._Promise: ...
        def getOperator(
            self, op: Calculator.Operator._Value = ...
        ) -> Calculator._getOperator_Results._Promise: ...

        class Server(_typed.Server):
            pass


__all__ = [
    "Calculator",
]

_FILE_ID = 0xA5B175046FFBC553
_NODES = (
    (  # calculator.capnp
        "AAAAAA0AAAAAAAAAAgACAFPF+28EdbGlCwAAAAAAAAAFAAAAigAAAA0AAAAXAAAAY2FsY3VsYXRv",
        "ci5jYXBucAAAAAAAAAAABAAAAAEAAQAXBhwV8GImxwEAAABaAAAAQ2FsY3VsYXRvcgAAAAAAAA==",
    ),
    (  # calculator.capnp:Calculator
        "AAAAAEAAAAAAAAAAAwAFABcGHBXwYibHEQAAAAMAAABTxftvBHWxpREAAADiAAAAHQAAAEcAAAAA",
        "AAAAAAAAAFUAAADHAAAA2QAAAAcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IAAAAAABAA",
        "AAABAAEAPeIO+/x2BfYZAAAAWgAAAPmAFGidvNi+GQAAADIAAABgM6Uqv6tS8BUAAABKAAAA9KXY",
        "MlAg8f0VAAAASgAAAEV4cHJlc3Npb24AAAAAAABWYWx1ZQAAAEZ1bmN0aW9uAAAAAAAAAABPcGVy",
        "YXRvcgAAAAAAAAAADAAAAAMABQAAAAAAAAAAAKGm7ta8X+aqtfJp+8vcfZVRAAAASgAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAEkAAAAHAAAAAQAAAAAAAAB/OHAhMGBXne6ZBj+psQPIPQAAAGIA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1AAAABwAAAAIAAAAAAAAAPwcCYJ4IwN44kmi2d7K8",
        "2ikAAABiAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIQAAAAcAAABldmFsdWF0ZQAAAAAAAAAA",
        "AAAAAAAAAABkZWZGdW5jdGlvbgAAAAAAAAAAAAAAAABnZXRPcGVyYXRvcgAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAA==",
    ),
    (  # calculator.capnp:Calculator.Expression
        "AAAAADoAAAAAAAAABQAEAD3iDvv8dgX2HAAAAAEAAgAXBhwV8GImxwIABwAAAAQABAAAAAAAAAAN",
        "AAAAOgEAAB0AAAAHAAAAAAAAAAAAAAAZAAAA5wAAAGNhbGN1bGF0b3IuY2FwbnA6Q2FsY3VsYXRv",
        "ci5FeHByZXNzaW9uAAAAAAAAAAAAABAAAAADAAQAAAD//wAAAAAAAAEAAAAAAAAAAAAAAAAAYQAA",
        "AEIAAAAAAAAAAAAAAFwAAAABAAAAXAAAAAEAAAABAP7/AAAAAAAAAQABAAAAAAAAAAAAAABRAAAA",
        "SgAAAAAAAAAAAAAAUAAAAAIAAABUAAAAAQAAAAIA/f8AAAAAAAABAAIAAAAAAAAAAAAAAEkAAABS",
        "AAAAAAAAAAAAAABIAAAAAQAAAEgAAAABAAAAAwD8/wAAAAABAAAAAAAAANTnuA9xJ8nTPQAAACoA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABsaXRlcmFsAAsAAAAAAAAACwAAAAAAAABwcmV2aW91",
        "cwAAAAAAAAAAEQAAAAAAAAD5gBRonbzYvhEAAAAAAAAAcGFyYW1ldGVyAAAAAAAAAAgAAAAAAAAA",
        "CAAAAAAAAABjYWxsAAAAAA==",
    ),
    (  # calculator.capnp:Calculator.Expression.call
        "AAAAACcAAAAAAAAABAAEANTnuA9xJ8nTJwAAAAEAAgA94g77/HYF9gIABwABAAAADQAAAGIBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAAGcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuRXhwcmVz",
        "c2lvbi5jYWxsAAAAAAAIAAAAAgAEAAAAAAAAAAAAAAABAAMAAAAlAAAASgAAAAAAAAAAAAAAJAAA",
        "AAIAAAAoAAAAAQAAAAEAAAABAAAAAAABAAQAAAAhAAAAOgAAAAAAAAAAAAAAHAAAAAEAAQAoAAAA",
        "AQAAAGZ1bmN0aW9uAAAAAAAAAAARAAAAAAAAAGAzpSq/q1LwEQAAAAAAAABwYXJhbXMAAA4AAAAA",
        "AAAAAAAAAAIAAAAQAAAAAAAAAD3iDvv8dgX2DgAAAAAAAAA=",
    ),
    (  # calculator.capnp:Calculator.Function
        "AAAAABsAAAAAAAAAAwAFAGAzpSq/q1LwHAAAAAMAAAAXBhwV8GImxxEAAAAqAQAAIQAAAAcAAAAA",
        "AAAAAAAAAB0AAABHAAAARQAAAAcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuRnVuY3Rp",
        "b24AAAAAAAAAAAAAAAAEAAAAAwAFAAAAAAAAAAAAdTFaapVU8/pVBwIDgatS6hEAAAAqAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAABQAAAAcAAABjYWxsAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ),
    (  # calculator.capnp:Calculator.Function.call$Params
        "AAAAABwAAAAAAAAABAAEAHUxWmqVVPP6JQAAAAEAAAAAAAAAAAAAAAEABwAAAAAADQAAAIoBAAAA",
        "AAAAAAAAAAAAAAAAAAAAHQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuRnVuY3Rp",
        "b24uY2FsbCRQYXJhbXMAAAAAAAAAAAQAAAACAAQAAAAAAAAAAAAAAAEAAAAAAA0AAAA6AAAAAAAA",
        "AAAAAAAIAAAAAQABABAAAAABAAAAcGFyYW1zAAAOAAAAAAAAAAAAAAABAAAACwAAAAAAAAAOAAAA",
        "AAAAAA==",
    ),
    (  # calculator.capnp:Calculator.Function.call$Results
        "AAAAABoAAAAAAAAABAAEAFUHAgOBq1LqJQAAAAEAAQAAAAAAAAAAAAAABwAAAAAADQAAAJIBAAAA",
        "AAAAAAAAAAAAAAAAAAAAHQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuRnVuY3Rp",
        "b24uY2FsbCRSZXN1bHRzAAAAAAAAAAQAAAACAAQAAAAAAAAAAAAAAAEAAAAAAA0AAAAyAAAAAAAA",
        "AAAAAAAIAAAAAQAAAAgAAAABAAAAdmFsdWUAAAALAAAAAAAAAAsAAAAAAAAA",
    ),
    (  # calculator.capnp:Calculator.Operator
        "AAAAACAAAAAAAAAAAwAEAPSl2DJQIPH9HAAAAAIAAAAXBhwV8GImxw0AAAAqAQAAHQAAAAcAAAAA",
        "AAAAAAAAABkAAABXAAAAY2FsY3VsYXRvci5jYXBucDpDYWxjdWxhdG9yLk9wZXJhdG9yAAAAAAAA",
        "AAAAAAAAFAAAAAEAAQAAAAAAAAAAACEAAAAiAAAAAQAAAAAAAAAdAAAASgAAAAIAAAAAAAAAHQAA",
        "AEoAAAADAAAAAAAAAB0AAAA6AAAABAAAAAAAAAAZAAAAMgAAAGFkZAAAAAAAc3VidHJhY3QAAAAA",
        "AAAAAG11bHRpcGx5AAAAAAAAAABkaXZpZGUAAHBvd2VyAAAA",
    ),
    (  # calculator.capnp:Calculator.Value
        "AAAAABsAAAAAAAAAAwAFAPmAFGidvNi+HAAAAAMAAAAXBhwV8GImxxEAAAASAQAAIQAAAAcAAAAA",
        "AAAAAAAAAB0AAABHAAAARQAAAAcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuVmFsdWUA",
        "AAAAAAAAAAAAAAAAAAAEAAAAAwAFAAAAAAAAAAAAqjjralswp52wzUrUVi1dmhEAAAAqAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAABQAAAAcAAAByZWFkAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ),
    (  # calculator.capnp:Calculator.Value.read$Params
        "AAAAAAwAAAAAAAAABAABAKo462pbMKedIgAAAAEAAAAAAAAAAAAAAAAABwAAAAAAAQAAAHIBAABj",
        "YWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuVmFsdWUucmVhZCRQYXJhbXMAAAA=",
    ),
    (  # calculator.capnp:Calculator.Value.read$Results
        "AAAAABkAAAAAAAAABAAEALDNStRWLV2aIgAAAAEAAQAAAAAAAAAAAAAABwAAAAAADQAAAHoBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuVmFsdWUu",
        "cmVhZCRSZXN1bHRzAAAEAAAAAgAEAAAAAAAAAAAAAAABAAAAAAANAAAAMgAAAAAAAAAAAAAACAAA",
        "AAEAAAAIAAAAAQAAAHZhbHVlAAAACwAAAAAAAAALAAAAAAAAAA==",
    ),
    (  # calculator.capnp:Calculator.defFunction$Params
        "AAAAACQAAAAAAAAABAAEAH84cCEwYFedHAAAAAEAAQAAAAAAAAAAAAEABwAAAAAADQAAAHoBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAAGcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuZGVmRnVu",
        "Y3Rpb24kUGFyYW1zAAAIAAAAAgAEAAAAAAAAAAAAAAABAAAAAAAlAAAAWgAAAAAAAAAAAAAAJAAA",
        "AAEAAAAkAAAAAQAAAAEAAAAAAAAAAAABAAEAAAAdAAAAKgAAAAAAAAAAAAAAGAAAAAIAAAAcAAAA",
        "AQAAAHBhcmFtQ291bnQAAAAAAAAEAAAAAAAAAAQAAAAAAAAAYm9keQAAAAAQAAAAAAAAAD3iDvv8",
        "dgX2EAAAAAAAAAA=",
    ),
    (  # calculator.capnp:Calculator.defFunction$Results
        "AAAAABoAAAAAAAAABAAEAO6ZBj+psQPIHAAAAAEAAAAAAAAAAAAAAAEABwAAAAAADQAAAIIBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuZGVmRnVu",
        "Y3Rpb24kUmVzdWx0cwAEAAAAAgAEAAAAAAAAAAAAAAABAAAAAAANAAAAKgAAAAAAAAAAAAAACAAA",
        "AAIAAAAMAAAAAQAAAGZ1bmMAAAAAEQAAAAAAAABgM6Uqv6tS8BEAAAAAAAAA",
    ),
    (  # calculator.capnp:Calculator.evaluate$Params
        "AAAAABsAAAAAAAAABAAEAKGm7ta8X+aqHAAAAAEAAAAAAAAAAAAAAAEABwAAAAAADQAAAGIBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuZXZhbHVh",
        "dGUkUGFyYW1zAAAAAAAEAAAAAgAEAAAAAAAAAAAAAAABAAAAAAANAAAAWgAAAAAAAAAAAAAADAAA",
        "AAIAAAAQAAAAAQAAAGV4cHJlc3Npb24AAAAAAAAQAAAAAAAAAD3iDvv8dgX2EAAAAAAAAAA=",
    ),
    (  # calculator.capnp:Calculator.evaluate$Results
        "AAAAABoAAAAAAAAABAAEALXyafvL3H2VHAAAAAEAAAAAAAAAAAAAAAEABwAAAAAADQAAAGoBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuZXZhbHVh",
        "dGUkUmVzdWx0cwAAAAAEAAAAAgAEAAAAAAAAAAAAAAABAAAAAAANAAAAMgAAAAAAAAAAAAAACAAA",
        "AAIAAAAMAAAAAQAAAHZhbHVlAAAAEQAAAAAAAAD5gBRonbzYvhEAAAAAAAAA",
    ),
    (  # calculator.capnp:Calculator.getOperator$Params
        "AAAAABoAAAAAAAAABAAEAD8HAmCeCMDeHAAAAAEAAQAAAAAAAAAAAAAABwAAAAAADQAAAHoBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuZ2V0T3Bl",
        "cmF0b3IkUGFyYW1zAAAEAAAAAgAEAAAAAAAAAAAAAAABAAAAAAANAAAAGgAAAAAAAAAAAAAACAAA",
        "AAIAAAAMAAAAAQAAAG9wAAAAAAAADwAAAAAAAAD0pdgyUCDx/Q8AAAAAAAAA",
    ),
    (  # calculator.capnp:Calculator.getOperator$Results
        "AAAAABoAAAAAAAAABAAEADiSaLZ3srzaHAAAAAEAAAAAAAAAAAAAAAEABwAAAAAADQAAAIIBAAAA",
        "AAAAAAAAAAAAAAAAAAAAGQAAADcAAABjYWxjdWxhdG9yLmNhcG5wOkNhbGN1bGF0b3IuZ2V0T3Bl",
        "cmF0b3IkUmVzdWx0cwAEAAAAAgAEAAAAAAAAAAAAAAABAAAAAAANAAAAKgAAAAAAAAAAAAAACAAA",
        "AAIAAAAMAAAAAQAAAGZ1bmMAAAAAEQAAAAAAAABgM6Uqv6tS8BEAAAAAAAAA",
    ),
)

_frames = [_b64decode("".join(parts)) for parts in _NODES]
_module = _load_node_messages(_frames, _FILE_ID, __name__)
schema = _module.schema
schemas = _module.schemas
registry = _module.registry
if not TYPE_CHECKING:
    Calculator = _module.Calculator
