"""Cap'n Proto schema ``rpc.capnp`` for capnrpc: generated, do not edit.

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

    class Message(_typed.Struct["Message.Reader", "Message.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class _Which(_schema.UnionMember):
            _Name: _t.TypeAlias = _t.Literal[
                "unimplemented",
                "abort",
                "call",
                "return",
                "finish",
                "resolve",
                "release",
                "obsoleteSave",
                "bootstrap",
                "obsoleteDelete",
                "provide",
                "accept",
                "join",
                "disembargo",
            ]

            def __call__(self) -> Message._Which._Name: ...

        class Reader(_typed.StructReader["Message.Builder"]):
            @property
            def unimplemented(self) -> Message.Reader: ...
            @property
            def abort(self) -> Exception.Reader: ...
            @property
            def call(self) -> Call.Reader: ...
            @property
            def return_(self) -> Return.Reader: ...
            @property
            def finish(self) -> Finish.Reader: ...
            @property
            def resolve(self) -> Resolve.Reader: ...
            @property
            def release(self) -> Release.Reader: ...
            @property
            def obsoleteSave(self) -> _schema.AnyPointerReader: ...
            @property
            def bootstrap(self) -> Bootstrap.Reader: ...
            @property
            def obsoleteDelete(self) -> _schema.AnyPointerReader: ...
            @property
            def provide(self) -> Provide.Reader: ...
            @property
            def accept(self) -> Accept.Reader: ...
            @property
            def join(self) -> Join.Reader: ...
            @property
            def disembargo(self) -> Disembargo.Reader: ...
            @property
            def which(self) -> Message._Which: ...

        class Builder(_typed.StructBuilder["Message.Reader"]):
            @property
            def unimplemented(self) -> Message.Builder: ...
            @unimplemented.setter
            def unimplemented(self, value: Message._Value | None) -> None: ...
            @property
            def abort(self) -> Exception.Builder: ...
            @abort.setter
            def abort(self, value: Exception._Value | None) -> None: ...
            @property
            def call(self) -> Call.Builder: ...
            @call.setter
            def call(self, value: Call._Value | None) -> None: ...
            @property
            def return_(self) -> Return.Builder: ...
            @return_.setter
            def return_(self, value: Return._Value | None) -> None: ...
            @property
            def finish(self) -> Finish.Builder: ...
            @finish.setter
            def finish(self, value: Finish._Value | None) -> None: ...
            @property
            def resolve(self) -> Resolve.Builder: ...
            @resolve.setter
            def resolve(self, value: Resolve._Value | None) -> None: ...
            @property
            def release(self) -> Release.Builder: ...
            @release.setter
            def release(self, value: Release._Value | None) -> None: ...
            @property
            def obsoleteSave(self) -> _schema.AnyPointerBuilder: ...
            @obsoleteSave.setter
            def obsoleteSave(self, value: _t.Any) -> None: ...
            @property
            def bootstrap(self) -> Bootstrap.Builder: ...
            @bootstrap.setter
            def bootstrap(self, value: Bootstrap._Value | None) -> None: ...
            @property
            def obsoleteDelete(self) -> _schema.AnyPointerBuilder: ...
            @obsoleteDelete.setter
            def obsoleteDelete(self, value: _t.Any) -> None: ...
            @property
            def provide(self) -> Provide.Builder: ...
            @provide.setter
            def provide(self, value: Provide._Value | None) -> None: ...
            @property
            def accept(self) -> Accept.Builder: ...
            @accept.setter
            def accept(self, value: Accept._Value | None) -> None: ...
            @property
            def join(self) -> Join.Builder: ...
            @join.setter
            def join(self, value: Join._Value | None) -> None: ...
            @property
            def disembargo(self) -> Disembargo.Builder: ...
            @disembargo.setter
            def disembargo(self, value: Disembargo._Value | None) -> None: ...
            @property
            def which(self) -> Message._Which: ...
            @_t.overload
            def init(
                self, name: _t.Literal["unimplemented"], size: None = None
            ) -> Message.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["abort"], size: None = None) -> Exception.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["call"], size: None = None) -> Call.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["return", "return_"], size: None = None
            ) -> Return.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["finish"], size: None = None) -> Finish.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["resolve"], size: None = None) -> Resolve.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["release"], size: None = None) -> Release.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["obsoleteSave"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["bootstrap"], size: None = None
            ) -> Bootstrap.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["obsoleteDelete"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...
            @_t.overload
            def init(self, name: _t.Literal["provide"], size: None = None) -> Provide.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["accept"], size: None = None) -> Accept.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["join"], size: None = None) -> Join.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["disembargo"], size: None = None
            ) -> Disembargo.Builder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            unimplemented: Message._Value | None = ...,
            abort: Exception._Value | None = ...,
            call: Call._Value | None = ...,
            return_: Return._Value | None = ...,
            finish: Finish._Value | None = ...,
            resolve: Resolve._Value | None = ...,
            release: Release._Value | None = ...,
            obsoleteSave: _t.Any = ...,
            bootstrap: Bootstrap._Value | None = ...,
            obsoleteDelete: _t.Any = ...,
            provide: Provide._Value | None = ...,
            accept: Accept._Value | None = ...,
            join: Join._Value | None = ...,
            disembargo: Disembargo._Value | None = ...,
        ) -> Message.Builder: ...

    class Bootstrap(_typed.Struct["Bootstrap.Reader", "Bootstrap.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Bootstrap.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def deprecatedObjectId(self) -> _schema.AnyPointerReader: ...

        class Builder(_typed.StructBuilder["Bootstrap.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def deprecatedObjectId(self) -> _schema.AnyPointerBuilder: ...
            @deprecatedObjectId.setter
            def deprecatedObjectId(self, value: _t.Any) -> None: ...
            def init(
                self, name: _t.Literal["deprecatedObjectId"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            deprecatedObjectId: _t.Any = ...,
        ) -> Bootstrap.Builder: ...

    class Call(_typed.Struct["Call.Reader", "Call.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class SendResultsTo(_typed.Group):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class _Which(_schema.UnionMember):
                _Name: _t.TypeAlias = _t.Literal["caller", "yourself", "thirdParty"]

                def __call__(self) -> Call.SendResultsTo._Which._Name: ...

            class Reader(_typed.StructReader["Call.SendResultsTo.Builder"]):
                @property
                def caller(self) -> None: ...
                @property
                def yourself(self) -> None: ...
                @property
                def thirdParty(self) -> _schema.AnyPointerReader: ...
                @property
                def which(self) -> Call.SendResultsTo._Which: ...

            class Builder(_typed.StructBuilder["Call.SendResultsTo.Reader"]):
                @property
                def caller(self) -> None: ...
                @caller.setter
                def caller(self, value: None) -> None: ...
                @property
                def yourself(self) -> None: ...
                @yourself.setter
                def yourself(self, value: None) -> None: ...
                @property
                def thirdParty(self) -> _schema.AnyPointerBuilder: ...
                @thirdParty.setter
                def thirdParty(self, value: _t.Any) -> None: ...
                @property
                def which(self) -> Call.SendResultsTo._Which: ...
                def init(
                    self, name: _t.Literal["thirdParty"], size: None = None
                ) -> _schema.AnyPointerBuilder: ...

        class Reader(_typed.StructReader["Call.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def target(self) -> MessageTarget.Reader: ...
            @property
            def interfaceId(self) -> int: ...
            @property
            def methodId(self) -> int: ...
            @property
            def params(self) -> Payload.Reader: ...
            @property
            def sendResultsTo(self) -> Call.SendResultsTo.Reader: ...
            @property
            def allowThirdPartyTailCall(self) -> bool: ...
            @property
            def noPromisePipelining(self) -> bool: ...
            @property
            def onlyPromisePipeline(self) -> bool: ...

        class Builder(_typed.StructBuilder["Call.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def target(self) -> MessageTarget.Builder: ...
            @target.setter
            def target(self, value: MessageTarget._Value | None) -> None: ...
            @property
            def interfaceId(self) -> int: ...
            @interfaceId.setter
            def interfaceId(self, value: int) -> None: ...
            @property
            def methodId(self) -> int: ...
            @methodId.setter
            def methodId(self, value: int) -> None: ...
            @property
            def params(self) -> Payload.Builder: ...
            @params.setter
            def params(self, value: Payload._Value | None) -> None: ...
            @property
            def sendResultsTo(self) -> Call.SendResultsTo.Builder: ...
            @sendResultsTo.setter
            def sendResultsTo(self, value: Call.SendResultsTo._Value) -> None: ...
            @property
            def allowThirdPartyTailCall(self) -> bool: ...
            @allowThirdPartyTailCall.setter
            def allowThirdPartyTailCall(self, value: bool) -> None: ...
            @property
            def noPromisePipelining(self) -> bool: ...
            @noPromisePipelining.setter
            def noPromisePipelining(self, value: bool) -> None: ...
            @property
            def onlyPromisePipeline(self) -> bool: ...
            @onlyPromisePipeline.setter
            def onlyPromisePipeline(self, value: bool) -> None: ...
            @_t.overload
            def init(
                self, name: _t.Literal["target"], size: None = None
            ) -> MessageTarget.Builder: ...
            @_t.overload
            def init(self, name: _t.Literal["params"], size: None = None) -> Payload.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["sendResultsTo"], size: None = None
            ) -> Call.SendResultsTo.Builder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            target: MessageTarget._Value | None = ...,
            interfaceId: int = ...,
            methodId: int = ...,
            params: Payload._Value | None = ...,
            sendResultsTo: Call.SendResultsTo._Value = ...,
            allowThirdPartyTailCall: bool = ...,
            noPromisePipelining: bool = ...,
            onlyPromisePipeline: bool = ...,
        ) -> Call.Builder: ...

    class Return(_typed.Struct["Return.Reader", "Return.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class _Which(_schema.UnionMember):
            _Name: _t.TypeAlias = _t.Literal[
                "results",
                "exception",
                "canceled",
                "resultsSentElsewhere",
                "takeFromOtherQuestion",
                "acceptFromThirdParty",
            ]

            def __call__(self) -> Return._Which._Name: ...

        class Reader(_typed.StructReader["Return.Builder"]):
            @property
            def answerId(self) -> int: ...
            @property
            def releaseParamCaps(self) -> bool: ...
            @property
            def results(self) -> Payload.Reader: ...
            @property
            def exception(self) -> Exception.Reader: ...
            @property
            def canceled(self) -> None: ...
            @property
            def resultsSentElsewhere(self) -> None: ...
            @property
            def takeFromOtherQuestion(self) -> int: ...
            @property
            def acceptFromThirdParty(self) -> _schema.AnyPointerReader: ...
            @property
            def noFinishNeeded(self) -> bool: ...
            @property
            def which(self) -> Return._Which: ...

        class Builder(_typed.StructBuilder["Return.Reader"]):
            @property
            def answerId(self) -> int: ...
            @answerId.setter
            def answerId(self, value: int) -> None: ...
            @property
            def releaseParamCaps(self) -> bool: ...
            @releaseParamCaps.setter
            def releaseParamCaps(self, value: bool) -> None: ...
            @property
            def results(self) -> Payload.Builder: ...
            @results.setter
            def results(self, value: Payload._Value | None) -> None: ...
            @property
            def exception(self) -> Exception.Builder: ...
            @exception.setter
            def exception(self, value: Exception._Value | None) -> None: ...
            @property
            def canceled(self) -> None: ...
            @canceled.setter
            def canceled(self, value: None) -> None: ...
            @property
            def resultsSentElsewhere(self) -> None: ...
            @resultsSentElsewhere.setter
            def resultsSentElsewhere(self, value: None) -> None: ...
            @property
            def takeFromOtherQuestion(self) -> int: ...
            @takeFromOtherQuestion.setter
            def takeFromOtherQuestion(self, value: int) -> None: ...
            @property
            def acceptFromThirdParty(self) -> _schema.AnyPointerBuilder: ...
            @acceptFromThirdParty.setter
            def acceptFromThirdParty(self, value: _t.Any) -> None: ...
            @property
            def noFinishNeeded(self) -> bool: ...
            @noFinishNeeded.setter
            def noFinishNeeded(self, value: bool) -> None: ...
            @property
            def which(self) -> Return._Which: ...
            @_t.overload
            def init(self, name: _t.Literal["results"], size: None = None) -> Payload.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["exception"], size: None = None
            ) -> Exception.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["acceptFromThirdParty"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            answerId: int = ...,
            releaseParamCaps: bool = ...,
            results: Payload._Value | None = ...,
            exception: Exception._Value | None = ...,
            canceled: None = ...,
            resultsSentElsewhere: None = ...,
            takeFromOtherQuestion: int = ...,
            acceptFromThirdParty: _t.Any = ...,
            noFinishNeeded: bool = ...,
        ) -> Return.Builder: ...

    class Finish(_typed.Struct["Finish.Reader", "Finish.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Finish.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def releaseResultCaps(self) -> bool: ...
            @property
            def requireEarlyCancellationWorkaround(self) -> bool: ...

        class Builder(_typed.StructBuilder["Finish.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def releaseResultCaps(self) -> bool: ...
            @releaseResultCaps.setter
            def releaseResultCaps(self, value: bool) -> None: ...
            @property
            def requireEarlyCancellationWorkaround(self) -> bool: ...
            @requireEarlyCancellationWorkaround.setter
            def requireEarlyCancellationWorkaround(self, value: bool) -> None: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            releaseResultCaps: bool = ...,
            requireEarlyCancellationWorkaround: bool = ...,
        ) -> Finish.Builder: ...

    class Resolve(_typed.Struct["Resolve.Reader", "Resolve.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class _Which(_schema.UnionMember):
            _Name: _t.TypeAlias = _t.Literal["cap", "exception"]

            def __call__(self) -> Resolve._Which._Name: ...

        class Reader(_typed.StructReader["Resolve.Builder"]):
            @property
            def promiseId(self) -> int: ...
            @property
            def cap(self) -> CapDescriptor.Reader: ...
            @property
            def exception(self) -> Exception.Reader: ...
            @property
            def which(self) -> Resolve._Which: ...

        class Builder(_typed.StructBuilder["Resolve.Reader"]):
            @property
            def promiseId(self) -> int: ...
            @promiseId.setter
            def promiseId(self, value: int) -> None: ...
            @property
            def cap(self) -> CapDescriptor.Builder: ...
            @cap.setter
            def cap(self, value: CapDescriptor._Value | None) -> None: ...
            @property
            def exception(self) -> Exception.Builder: ...
            @exception.setter
            def exception(self, value: Exception._Value | None) -> None: ...
            @property
            def which(self) -> Resolve._Which: ...
            @_t.overload
            def init(self, name: _t.Literal["cap"], size: None = None) -> CapDescriptor.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["exception"], size: None = None
            ) -> Exception.Builder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            promiseId: int = ...,
            cap: CapDescriptor._Value | None = ...,
            exception: Exception._Value | None = ...,
        ) -> Resolve.Builder: ...

    class Release(_typed.Struct["Release.Reader", "Release.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Release.Builder"]):
            @property
            def id(self) -> int: ...
            @property
            def referenceCount(self) -> int: ...

        class Builder(_typed.StructBuilder["Release.Reader"]):
            @property
            def id(self) -> int: ...
            @id.setter
            def id(self, value: int) -> None: ...
            @property
            def referenceCount(self) -> int: ...
            @referenceCount.setter
            def referenceCount(self, value: int) -> None: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            id: int = ...,
            referenceCount: int = ...,
        ) -> Release.Builder: ...

    class Disembargo(_typed.Struct["Disembargo.Reader", "Disembargo.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Context(_typed.Group):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class _Which(_schema.UnionMember):
                _Name: _t.TypeAlias = _t.Literal[
                    "senderLoopback", "receiverLoopback", "accept", "provide"
                ]

                def __call__(self) -> Disembargo.Context._Which._Name: ...

            class Reader(_typed.StructReader["Disembargo.Context.Builder"]):
                @property
                def senderLoopback(self) -> int: ...
                @property
                def receiverLoopback(self) -> int: ...
                @property
                def accept(self) -> None: ...
                @property
                def provide(self) -> int: ...
                @property
                def which(self) -> Disembargo.Context._Which: ...

            class Builder(_typed.StructBuilder["Disembargo.Context.Reader"]):
                @property
                def senderLoopback(self) -> int: ...
                @senderLoopback.setter
                def senderLoopback(self, value: int) -> None: ...
                @property
                def receiverLoopback(self) -> int: ...
                @receiverLoopback.setter
                def receiverLoopback(self, value: int) -> None: ...
                @property
                def accept(self) -> None: ...
                @accept.setter
                def accept(self, value: None) -> None: ...
                @property
                def provide(self) -> int: ...
                @provide.setter
                def provide(self, value: int) -> None: ...
                @property
                def which(self) -> Disembargo.Context._Which: ...

        class Reader(_typed.StructReader["Disembargo.Builder"]):
            @property
            def target(self) -> MessageTarget.Reader: ...
            @property
            def context(self) -> Disembargo.Context.Reader: ...

        class Builder(_typed.StructBuilder["Disembargo.Reader"]):
            @property
            def target(self) -> MessageTarget.Builder: ...
            @target.setter
            def target(self, value: MessageTarget._Value | None) -> None: ...
            @property
            def context(self) -> Disembargo.Context.Builder: ...
            @context.setter
            def context(self, value: Disembargo.Context._Value) -> None: ...
            @_t.overload
            def init(
                self, name: _t.Literal["target"], size: None = None
            ) -> MessageTarget.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["context"], size: None = None
            ) -> Disembargo.Context.Builder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            target: MessageTarget._Value | None = ...,
            context: Disembargo.Context._Value = ...,
        ) -> Disembargo.Builder: ...

    class Provide(_typed.Struct["Provide.Reader", "Provide.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Provide.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def target(self) -> MessageTarget.Reader: ...
            @property
            def recipient(self) -> _schema.AnyPointerReader: ...

        class Builder(_typed.StructBuilder["Provide.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def target(self) -> MessageTarget.Builder: ...
            @target.setter
            def target(self, value: MessageTarget._Value | None) -> None: ...
            @property
            def recipient(self) -> _schema.AnyPointerBuilder: ...
            @recipient.setter
            def recipient(self, value: _t.Any) -> None: ...
            @_t.overload
            def init(
                self, name: _t.Literal["target"], size: None = None
            ) -> MessageTarget.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["recipient"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            target: MessageTarget._Value | None = ...,
            recipient: _t.Any = ...,
        ) -> Provide.Builder: ...

    class Accept(_typed.Struct["Accept.Reader", "Accept.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Accept.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def provision(self) -> _schema.AnyPointerReader: ...
            @property
            def embargo(self) -> bool: ...

        class Builder(_typed.StructBuilder["Accept.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def provision(self) -> _schema.AnyPointerBuilder: ...
            @provision.setter
            def provision(self, value: _t.Any) -> None: ...
            @property
            def embargo(self) -> bool: ...
            @embargo.setter
            def embargo(self, value: bool) -> None: ...
            def init(
                self, name: _t.Literal["provision"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            provision: _t.Any = ...,
            embargo: bool = ...,
        ) -> Accept.Builder: ...

    class Join(_typed.Struct["Join.Reader", "Join.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Join.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def target(self) -> MessageTarget.Reader: ...
            @property
            def keyPart(self) -> _schema.AnyPointerReader: ...

        class Builder(_typed.StructBuilder["Join.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def target(self) -> MessageTarget.Builder: ...
            @target.setter
            def target(self, value: MessageTarget._Value | None) -> None: ...
            @property
            def keyPart(self) -> _schema.AnyPointerBuilder: ...
            @keyPart.setter
            def keyPart(self, value: _t.Any) -> None: ...
            @_t.overload
            def init(
                self, name: _t.Literal["target"], size: None = None
            ) -> MessageTarget.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["keyPart"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            target: MessageTarget._Value | None = ...,
            keyPart: _t.Any = ...,
        ) -> Join.Builder: ...

    class MessageTarget(_typed.Struct["MessageTarget.Reader", "MessageTarget.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class _Which(_schema.UnionMember):
            _Name: _t.TypeAlias = _t.Literal["importedCap", "promisedAnswer"]

            def __call__(self) -> MessageTarget._Which._Name: ...

        class Reader(_typed.StructReader["MessageTarget.Builder"]):
            @property
            def importedCap(self) -> int: ...
            @property
            def promisedAnswer(self) -> PromisedAnswer.Reader: ...
            @property
            def which(self) -> MessageTarget._Which: ...

        class Builder(_typed.StructBuilder["MessageTarget.Reader"]):
            @property
            def importedCap(self) -> int: ...
            @importedCap.setter
            def importedCap(self, value: int) -> None: ...
            @property
            def promisedAnswer(self) -> PromisedAnswer.Builder: ...
            @promisedAnswer.setter
            def promisedAnswer(self, value: PromisedAnswer._Value | None) -> None: ...
            @property
            def which(self) -> MessageTarget._Which: ...
            def init(
                self, name: _t.Literal["promisedAnswer"], size: None = None
            ) -> PromisedAnswer.Builder: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            importedCap: int = ...,
            promisedAnswer: PromisedAnswer._Value | None = ...,
        ) -> MessageTarget.Builder: ...

    class Payload(_typed.Struct["Payload.Reader", "Payload.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["Payload.Builder"]):
            @property
            def content(self) -> _schema.AnyPointerReader: ...
            @property
            def capTable(self) -> _typed.ListReader[CapDescriptor.Reader]: ...

        class Builder(_typed.StructBuilder["Payload.Reader"]):
            @property
            def content(self) -> _schema.AnyPointerBuilder: ...
            @content.setter
            def content(self, value: _t.Any) -> None: ...
            @property
            def capTable(
                self,
            ) -> _typed.ListBuilder[CapDescriptor.Builder, CapDescriptor._Value | None]: ...
            @capTable.setter
            def capTable(
                self, value: _abc.Sequence[CapDescriptor._Value | None] | None
            ) -> None: ...
            @_t.overload
            def init(
                self, name: _t.Literal["content"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["capTable"], size: int
            ) -> _typed.ListBuilder[CapDescriptor.Builder, CapDescriptor._Value | None]: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            content: _t.Any = ...,
            capTable: _abc.Sequence[CapDescriptor._Value | None] | None = ...,
        ) -> Payload.Builder: ...

    class CapDescriptor(_typed.Struct["CapDescriptor.Reader", "CapDescriptor.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class _Which(_schema.UnionMember):
            _Name: _t.TypeAlias = _t.Literal[
                "none",
                "senderHosted",
                "senderPromise",
                "receiverHosted",
                "receiverAnswer",
                "thirdPartyHosted",
            ]

            def __call__(self) -> CapDescriptor._Which._Name: ...

        class Reader(_typed.StructReader["CapDescriptor.Builder"]):
            @property
            def none(self) -> None: ...
            @property
            def senderHosted(self) -> int: ...
            @property
            def senderPromise(self) -> int: ...
            @property
            def receiverHosted(self) -> int: ...
            @property
            def receiverAnswer(self) -> PromisedAnswer.Reader: ...
            @property
            def thirdPartyHosted(self) -> ThirdPartyCapDescriptor.Reader: ...
            @property
            def attachedFd(self) -> int: ...
            @property
            def which(self) -> CapDescriptor._Which: ...

        class Builder(_typed.StructBuilder["CapDescriptor.Reader"]):
            @property
            def none(self) -> None: ...
            @none.setter
            def none(self, value: None) -> None: ...
            @property
            def senderHosted(self) -> int: ...
            @senderHosted.setter
            def senderHosted(self, value: int) -> None: ...
            @property
            def senderPromise(self) -> int: ...
            @senderPromise.setter
            def senderPromise(self, value: int) -> None: ...
            @property
            def receiverHosted(self) -> int: ...
            @receiverHosted.setter
            def receiverHosted(self, value: int) -> None: ...
            @property
            def receiverAnswer(self) -> PromisedAnswer.Builder: ...
            @receiverAnswer.setter
            def receiverAnswer(self, value: PromisedAnswer._Value | None) -> None: ...
            @property
            def thirdPartyHosted(self) -> ThirdPartyCapDescriptor.Builder: ...
            @thirdPartyHosted.setter
            def thirdPartyHosted(self, value: ThirdPartyCapDescriptor._Value | None) -> None: ...
            @property
            def attachedFd(self) -> int: ...
            @attachedFd.setter
            def attachedFd(self, value: int) -> None: ...
            @property
            def which(self) -> CapDescriptor._Which: ...
            @_t.overload
            def init(
                self, name: _t.Literal["receiverAnswer"], size: None = None
            ) -> PromisedAnswer.Builder: ...
            @_t.overload
            def init(
                self, name: _t.Literal["thirdPartyHosted"], size: None = None
            ) -> ThirdPartyCapDescriptor.Builder: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            none: None = ...,
            senderHosted: int = ...,
            senderPromise: int = ...,
            receiverHosted: int = ...,
            receiverAnswer: PromisedAnswer._Value | None = ...,
            thirdPartyHosted: ThirdPartyCapDescriptor._Value | None = ...,
            attachedFd: int = ...,
        ) -> CapDescriptor.Builder: ...

    class PromisedAnswer(_typed.Struct["PromisedAnswer.Reader", "PromisedAnswer.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Op(_typed.Struct["PromisedAnswer.Op.Reader", "PromisedAnswer.Op.Builder"]):
            _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

            class _Which(_schema.UnionMember):
                _Name: _t.TypeAlias = _t.Literal["noop", "getPointerField"]

                def __call__(self) -> PromisedAnswer.Op._Which._Name: ...

            class Reader(_typed.StructReader["PromisedAnswer.Op.Builder"]):
                @property
                def noop(self) -> None: ...
                @property
                def getPointerField(self) -> int: ...
                @property
                def which(self) -> PromisedAnswer.Op._Which: ...

            class Builder(_typed.StructBuilder["PromisedAnswer.Op.Reader"]):
                @property
                def noop(self) -> None: ...
                @noop.setter
                def noop(self, value: None) -> None: ...
                @property
                def getPointerField(self) -> int: ...
                @getPointerField.setter
                def getPointerField(self, value: int) -> None: ...
                @property
                def which(self) -> PromisedAnswer.Op._Which: ...

            @classmethod
            def new_message(
                cls,
                num_first_segment_words: int | None = None,
                *,
                noop: None = ...,
                getPointerField: int = ...,
            ) -> PromisedAnswer.Op.Builder: ...

        class Reader(_typed.StructReader["PromisedAnswer.Builder"]):
            @property
            def questionId(self) -> int: ...
            @property
            def transform(self) -> _typed.ListReader[PromisedAnswer.Op.Reader]: ...

        class Builder(_typed.StructBuilder["PromisedAnswer.Reader"]):
            @property
            def questionId(self) -> int: ...
            @questionId.setter
            def questionId(self, value: int) -> None: ...
            @property
            def transform(
                self,
            ) -> _typed.ListBuilder[PromisedAnswer.Op.Builder, PromisedAnswer.Op._Value | None]: ...
            @transform.setter
            def transform(
                self, value: _abc.Sequence[PromisedAnswer.Op._Value | None] | None
            ) -> None: ...
            def init(
                self, name: _t.Literal["transform"], size: int
            ) -> _typed.ListBuilder[PromisedAnswer.Op.Builder, PromisedAnswer.Op._Value | None]: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            questionId: int = ...,
            transform: _abc.Sequence[PromisedAnswer.Op._Value | None] | None = ...,
        ) -> PromisedAnswer.Builder: ...

    class ThirdPartyCapDescriptor(
        _typed.Struct["ThirdPartyCapDescriptor.Reader", "ThirdPartyCapDescriptor.Builder"]
    ):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["ThirdPartyCapDescriptor.Builder"]):
            @property
            def id(self) -> _schema.AnyPointerReader: ...
            @property
            def vineId(self) -> int: ...

        class Builder(_typed.StructBuilder["ThirdPartyCapDescriptor.Reader"]):
            @property
            def id(self) -> _schema.AnyPointerBuilder: ...
            @id.setter
            def id(self, value: _t.Any) -> None: ...
            @property
            def vineId(self) -> int: ...
            @vineId.setter
            def vineId(self, value: int) -> None: ...
            def init(
                self, name: _t.Literal["id"], size: None = None
            ) -> _schema.AnyPointerBuilder: ...

        @classmethod
        def new_message(
            cls, num_first_segment_words: int | None = None, *, id: _t.Any = ..., vineId: int = ...
        ) -> ThirdPartyCapDescriptor.Builder: ...

    class Exception(_typed.Struct["Exception.Reader", "Exception.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Type(_schema.Enum):
            _Name: _t.TypeAlias = _t.Literal[
                "failed", "overloaded", "disconnected", "unimplemented"
            ]
            _Value: _t.TypeAlias = "_Name | _typed.EnumValue"
            failed: _t.Final = 0
            overloaded: _t.Final = 1
            disconnected: _t.Final = 2
            unimplemented: _t.Final = 3

        class Reader(_typed.StructReader["Exception.Builder"]):
            @property
            def reason(self) -> str: ...
            @property
            def obsoleteIsCallersFault(self) -> bool: ...
            @property
            def obsoleteDurability(self) -> int: ...
            @property
            def type(self) -> _typed.EnumValue: ...
            @property
            def trace(self) -> str: ...

        class Builder(_typed.StructBuilder["Exception.Reader"]):
            @property
            def reason(self) -> str: ...
            @reason.setter
            def reason(self, value: str | None) -> None: ...
            @property
            def obsoleteIsCallersFault(self) -> bool: ...
            @obsoleteIsCallersFault.setter
            def obsoleteIsCallersFault(self, value: bool) -> None: ...
            @property
            def obsoleteDurability(self) -> int: ...
            @obsoleteDurability.setter
            def obsoleteDurability(self, value: int) -> None: ...
            @property
            def type(self) -> _typed.EnumValue: ...
            @type.setter
            def type(self, value: Exception.Type._Value) -> None: ...
            @property
            def trace(self) -> str: ...
            @trace.setter
            def trace(self, value: str | None) -> None: ...
            @_t.overload
            def init(self, name: _t.Literal["reason"], size: int) -> str: ...
            @_t.overload
            def init(self, name: _t.Literal["trace"], size: int) -> str: ...
            def init(self, name: str, size: int | None = None) -> _t.Any: ...

        @classmethod
        def new_message(
            cls,
            num_first_segment_words: int | None = None,
            *,
            reason: str | None = ...,
            obsoleteIsCallersFault: bool = ...,
            obsoleteDurability: int = ...,
            type: Exception.Type._Value = ...,
            trace: str | None = ...,
        ) -> Exception.Builder: ...


__all__ = [
    "Accept",
    "Bootstrap",
    "Call",
    "CapDescriptor",
    "Disembargo",
    "Exception",
    "Finish",
    "Join",
    "Message",
    "MessageTarget",
    "Payload",
    "PromisedAnswer",
    "Provide",
    "Release",
    "Resolve",
    "Return",
    "ThirdPartyCapDescriptor",
]

_FILE_ID = 0xB312981B2552A250
_NODES = (
    (  # rpc.capnp
        "AAAAAEwAAAAAAAAAAgADAFCiUiUbmBKzBAAAAAAAAAAJAAAAUgAAAA0AAAAXAQAA+QAAAB8AAABy",
        "cGMuY2FwbnAAAAAAAAAARAAAAAEAAQAysI2AH5+3kYEAAABCAAAAxG4XMYDPTOl9AAAAUgAAANRM",
        "nXjOU2qDfQAAACoAAAA6V7M9jbIZnnkAAAA6AAAAYw74wrIufdN1AAAAOgAAAG4IifpVlsK7cQAA",
        "AEIAAACXdNB9DWwarW0AAABCAAAAETe9D4s2ZPlpAAAAWgAAAFqswftrBGqcaQAAAEIAAAAWQFWQ",
        "YrXJ1GUAAAA6AAAArwHgkASY4fthAAAAKgAAAMH7E1hUFLyVXQAAAHIAAAA7dJY9ImEOml0AAABC",
        "AAAAsLiGC8TdI4VZAAAAcgAAAKAcb83WsQDYWQAAAHoAAAB9AvDh/Qdw01kAAADCAAAAGmnPOga3",
        "JdZdAAAAUgAAAE1lc3NhZ2UAQm9vdHN0cmFwAAAAAAAAAENhbGwAAAAAUmV0dXJuAABGaW5pc2gA",
        "AFJlc29sdmUAUmVsZWFzZQBEaXNlbWJhcmdvAAAAAAAAUHJvdmlkZQBBY2NlcHQAAEpvaW4AAAAA",
        "TWVzc2FnZVRhcmdldAAAAFBheWxvYWQAQ2FwRGVzY3JpcHRvcgAAAFByb21pc2VkQW5zd2VyAABU",
        "aGlyZFBhcnR5Q2FwRGVzY3JpcHRvcgBFeGNlcHRpb24AAAAAAAAABAAAAAEAAgAsX4C/nvnGuQQA",
        "AAABAAEA/P///wAAAAAMAAAAAAAAAAEAAABaAAAAY2FwbnA6OnJwYwAAAAAAAA==",
    ),
    (  # rpc.capnp:Accept
        "AAAAACsAAAAAAAAABAAEABZAVZBitcnUCgAAAAEAAQBQolIlG5gSswEABwAAAAAADQAAAIoAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAJcAAABycGMuY2FwbnA6QWNjZXB0AAAAAAAAAAAAAAAAAAAAAAwA",
        "AAACAAQAAAAAAAAAAAAAAAEAAAAAAD0AAABaAAAAAAAAAAAAAAA8AAAAAQAAADwAAAABAAAAAQAA",
        "AAAAAAAAAAEAAQAAADUAAABSAAAAAAAAAAAAAAA0AAAAAQAAADQAAAABAAAAAgAAACAAAAAAAAEA",
        "AgAAAC0AAABCAAAAAAAAAAAAAAAoAAAAAQAAACgAAAABAAAAcXVlc3Rpb25JZAAAAAAAAAgAAAAA",
        "AAAACAAAAAAAAABwcm92aXNpb24AAAAAAAAAEgAAAAAAAAASAAAAAAAAAGVtYmFyZ28AAQAAAAAA",
        "AAABAAAAAAAAAA==",
    ),
    (  # rpc.capnp:Bootstrap
        "AAAAACMAAAAAAAAABAAEAMRuFzGAz0zpCgAAAAEAAQBQolIlG5gSswEABwAAAAAADQAAAKIAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAGcAAABycGMuY2FwbnA6Qm9vdHN0cmFwAAAAAAAAAAAAAAAAAAgA",
        "AAACAAQAAAAAAAAAAAAAAAEAAAAAACUAAABaAAAAAAAAAAAAAAAkAAAAAQAAACQAAAABAAAAAQAA",
        "AAAAAAAAAAEAAQAAAB0AAACaAAAAAAAAAAAAAAAgAAAAAQAAACAAAAABAAAAcXVlc3Rpb25JZAAA",
        "AAAAAAgAAAAAAAAACAAAAAAAAABkZXByZWNhdGVkT2JqZWN0SWQAAAAAAAASAAAAAAAAABIAAAAA",
        "AAAA",
    ),
    (  # rpc.capnp:Call
        "AAAAAHEAAAAAAAAABAAEANRMnXjOU2qDCgAAAAEAAwBQolIlG5gSswMABwAAAAAADQAAAHoAAAAR",
        "AAAABwAAAAAAAAAAAAAADQAAAP8BAABycGMuY2FwbnA6Q2FsbAAAAAAAAAAAAAAkAAAAAwAEAAAA",
        "AAAAAAAAAAABAAAAAAAAAAAAAAAAAO0AAABaAAAAAAAAAAAAAADsAAAAAQAAAOwAAAABAAAAAQAA",
        "AAAAAAAAAAEAAQAAAAAAAAAAAAAA4QAAADoAAAAAAAAAAAAAANwAAAACAAAA4AAAAAEAAAACAAAA",
        "AQAAAAAAAQACAAAAAAAAAAAAAADVAAAAYgAAAAAAAAAAAAAA1AAAAAEAAADUAAAAAQAAAAMAAAAC",
        "AAAAAAABAAMAAAAAAAAAAAAAAMkAAABKAAAAAAAAAAAAAADIAAAAAQAAAMgAAAABAAAABwAAAAEA",
        "AAAAAAEABAAAAAAAAAAAAAAAvQAAADoAAAAAAAAAAAAAALgAAAACAAAAvAAAAAEAAAAIAAAAAAAA",
        "AAEAAAAAAAAAmV+rGvaw6NqxAAAAcgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAACAAAAA",
        "AAABAAgAAAABAAAAAAAAAJ0AAADCAAAAAAAAAAAAAACgAAAAAQAAAKAAAAABAAAABQAAAIEAAAAA",
        "AAEACQAAAAEAAAAAAAAAlQAAAKIAAAAAAAAAAAAAAJgAAAABAAAAmAAAAAEAAAAGAAAAggAAAAAA",
        "AQAKAAAAAQAAAAAAAACNAAAAogAAAAAAAAAAAAAAkAAAAAEAAACQAAAAAQAAAHF1ZXN0aW9uSWQA",
        "AAAAAAAIAAAAAAAAAAgAAAAAAAAAdGFyZ2V0AAAQAAAAAAAAAMH7E1hUFLyVEAAAAAAAAABpbnRl",
        "cmZhY2VJZAAAAAAACQAAAAAAAAAJAAAAAAAAAG1ldGhvZElkAAAAAAAAAAAHAAAAAAAAAAcAAAAA",
        "AAAAcGFyYW1zAAAQAAAAAAAAADt0lj0iYQ6aEAAAAAAAAABzZW5kUmVzdWx0c1RvAAAAYWxsb3dU",
        "aGlyZFBhcnR5VGFpbENhbGwAAQAAAAAAAAABAAAAAAAAAG5vUHJvbWlzZVBpcGVsaW5pbmcAAAAA",
        "AAEAAAAAAAAAAQAAAAAAAABvbmx5UHJvbWlzZVBpcGVsaW5lAAAAAAABAAAAAAAAAAEAAAAAAAAA",
    ),
    (  # rpc.capnp:Call.sendResultsTo
        "AAAAACgAAAAAAAAABQAEAJlfqxr2sOjaDwAAAAEAAwDUTJ14zlNqgwMABwABAAMAAwAAAAAAAAAN",
        "AAAA6gAAAAAAAAAAAAAAAAAAAAAAAAARAAAAlwAAAHJwYy5jYXBucDpDYWxsLnNlbmRSZXN1bHRz",
        "VG8AAAAADAAAAAIABAAAAP//AAAAAAAAAQAFAAAAPQAAADoAAAAAAAAAAAAAAPz///8AAAAA/P//",
        "/wAAAAABAP7/AAAAAAAAAQAGAAAAKQAAAEoAAAAAAAAAAAAAAPz///8AAAAA/P///wAAAAACAP3/",
        "AgAAAAAAAQAHAAAAGQAAAFoAAAAAAAAAAAAAABgAAAABAAAAGAAAAAEAAABjYWxsZXIAAHlvdXJz",
        "ZWxmAAAAAAAAAAB0aGlyZFBhcnR5AAAAAAAAEgAAAAAAAAASAAAAAAAAAA==",
    ),
    (  # rpc.capnp:CapDescriptor
        "AAAAAFsAAAAAAAAABAAEALC4hgvE3SOFCgAAAAEAAQBQolIlG5gSswEABwAAAAYADQAAAMIAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAI8BAABycGMuY2FwbnA6Q2FwRGVzY3JpcHRvcgAAAAAAAAAAABwA",
        "AAADAAQAAAD//wAAAAAAAAEAAAAAAAAAAAAAAAAAtQAAACoAAAAAAAAAAAAAAPz///8AAAAA/P//",
        "/wAAAAABAP7/AQAAAAAAAQABAAAAAAAAAAAAAACdAAAAagAAAAAAAAAAAAAAnAAAAAEAAACcAAAA",
        "AQAAAAIA/f8BAAAAAAABAAIAAAAAAAAAAAAAAJEAAAByAAAAAAAAAAAAAACQAAAAAQAAAJAAAAAB",
        "AAAAAwD8/wEAAAAAAAEAAwAAAAAAAAAAAAAAhQAAAHoAAAAAAAAAAAAAAIQAAAABAAAAhAAAAAEA",
        "AAAEAPv/AAAAAAAAAQAEAAAAAAAAAAAAAAB5AAAAegAAAAAAAAAAAAAAeAAAAAIAAAB8AAAAAQAA",
        "AAUA+v8AAAAAAAABAAUAAAAAAAAAAAAAAHEAAACKAAAAAAAAAAAAAAB0AAAAAgAAAHgAAAABAAAA",
        "BgAAAAIAAAAAAAEABgAAAAEAAAAAAAAAbQAAAFoAAAAAAAAAAAAAAGwAAAABAAAAbAAAAAEAAABu",
        "b25lAAAAAHNlbmRlckhvc3RlZAAAAAAIAAAAAAAAAAgAAAAAAAAAc2VuZGVyUHJvbWlzZQAAAAgA",
        "AAAAAAAACAAAAAAAAAByZWNlaXZlckhvc3RlZAAACAAAAAAAAAAIAAAAAAAAAHJlY2VpdmVyQW5z",
        "d2VyAAAQAAAAAAAAAKAcb83WsQDYEAAAAAAAAAB0aGlyZFBhcnR5SG9zdGVkAAAAAAAAAAAQAAAA",
        "AAAAAH0C8OH9B3DTEAAAAAAAAABhdHRhY2hlZEZkAAAAAAAABgAAAAAAAAAGAP8AAAAAAA==",
    ),
    (  # rpc.capnp:Disembargo
        "AAAAACEAAAAAAAAABAAEABE3vQ+LNmT5CgAAAAEAAQBQolIlG5gSswEABwAAAAAADQAAAKoAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAHcAAABycGMuY2FwbnA6RGlzZW1iYXJnbwAAAAAAAAAAAAAAAAgA",
        "AAADAAQAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAKQAAADoAAAAAAAAAAAAAACQAAAACAAAAKAAA",
        "AAEAAAABAAAAAAAAAAEAAAAAAAAATd1bZd+0YtUdAAAAQgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAHRhcmdldAAAEAAAAAAAAADB+xNYVBS8lRAAAAAAAAAAY29udGV4dAA=",
    ),
    (  # rpc.capnp:Disembargo.context
        "AAAAADQAAAAAAAAABQAEAE3dW2XftGLVFQAAAAEAAQARN70PizZk+QEABwABAAQAAgAAAAAAAAAN",
        "AAAA6gAAAAAAAAAAAAAAAAAAAAAAAAARAAAAxwAAAHJwYy5jYXBucDpEaXNlbWJhcmdvLmNvbnRl",
        "eHQAAAAAEAAAAAIABAAAAP//AAAAAAAAAQABAAAAVQAAAHoAAAAAAAAAAAAAAFQAAAABAAAAVAAA",
        "AAEAAAABAP7/AAAAAAAAAQACAAAATQAAAIoAAAAAAAAAAAAAAFAAAAABAAAAUAAAAAEAAAACAP3/",
        "AAAAAAAAAQADAAAASQAAADoAAAAAAAAAAAAAAPz///8AAAAA/P///wAAAAADAPz/AAAAAAAAAQAE",
        "AAAANQAAAEIAAAAAAAAAAAAAADAAAAABAAAAMAAAAAEAAABzZW5kZXJMb29wYmFjawAACAAAAAAA",
        "AAAIAAAAAAAAAHJlY2VpdmVyTG9vcGJhY2sAAAAAAAAAAAgAAAAAAAAACAAAAAAAAABhY2NlcHQA",
        "AHByb3ZpZGUACAAAAAAAAAAIAAAAAAAAAA==",
    ),
    (  # rpc.capnp:Exception
        "AAAAAEMAAAAAAAAABAAEABppzzoGtyXWCgAAAAEAAQBQolIlG5gSswIABwAAAAAADQAAAKIAAAAV",
        "AAAAFwAAAAAAAAAAAAAAHQAAAPcAAABycGMuY2FwbnA6RXhjZXB0aW9uAAAAAAAEAAAAAQABAFi9",
        "TD/iloyyAQAAACoAAABUeXBlAAAAABQAAAACAAQAAAAAAAAAAAAAAAEAAAAAAG0AAAA6AAAAAAAA",
        "AAAAAABoAAAAAQAAAGgAAAABAAAAAgAAAAAAAAAAAAEAAQAAAGEAAAC6AAAAAAAAAAAAAABkAAAA",
        "AQAAAGQAAAABAAAAAwAAAAEAAAAAAAEAAgAAAF0AAACaAAAAAAAAAAAAAABgAAAAAQAAAGAAAAAB",
        "AAAAAQAAAAIAAAAAAAEAAwAAAFkAAAAqAAAAAAAAAAAAAABUAAAAAgAAAFgAAAABAAAABAAAAAEA",
        "AAAAAAEABAAAAFEAAAAyAAAAAAAAAAAAAABMAAAAAQAAAEwAAAABAAAAcmVhc29uAAAMAAAAAAAA",
        "AAwAAAAAAAAAb2Jzb2xldGVJc0NhbGxlcnNGYXVsdAAAAQAAAAAAAAABAAAAAAAAAG9ic29sZXRl",
        "RHVyYWJpbGl0eQAAAAAAAAcAAAAAAAAABwAAAAAAAAB0eXBlAAAAAA8AAAAAAAAAWL1MP+KWjLIP",
        "AAAAAAAAAHRyYWNlAAAADAAAAAAAAAAMAAAAAAAAAA==",
    ),
    (  # rpc.capnp:Exception.Type
        "AAAAAB0AAAAAAAAAAwAEAFi9TD/iloyyFAAAAAIAAAAaac86Brcl1g0AAADKAAAAGQAAAAcAAAAA",
        "AAAAAAAAABUAAABHAAAAcnBjLmNhcG5wOkV4Y2VwdGlvbi5UeXBlAAAAAAAAAAAAAAAAAAAAABAA",
        "AAABAAEAAAAAAAAAAAAZAAAAOgAAAAEAAAAAAAAAFQAAAFoAAAACAAAAAAAAABUAAABqAAAAAwAA",
        "AAAAAAAVAAAAcgAAAGZhaWxlZAAAb3ZlcmxvYWRlZAAAAAAAAGRpc2Nvbm5lY3RlZAAAAAB1bmlt",
        "cGxlbWVudGVkAAAA",
    ),
    (  # rpc.capnp:Finish
        "AAAAADMAAAAAAAAABAAEAGMO+MKyLn3TCgAAAAEAAQBQolIlG5gSswAABwAAAAAADQAAAIoAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAK8AAABycGMuY2FwbnA6RmluaXNoAAAAAAAAAAAAAAAAAAAAAAwA",
        "AAADAAQAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAARQAAAFoAAAAAAAAAAAAAAEQAAAABAAAARAAA",
        "AAEAAAABAAAAIAAAAAAAAQABAAAAAQAAAAAAAAA5AAAAkgAAAAAAAAAAAAAAPAAAAAEAAAA8AAAA",
        "AQAAAAIAAAAhAAAAAAABAAIAAAABAAAAAAAAADEAAAAaAQAAAAAAAAAAAAA8AAAAAQAAADwAAAAB",
        "AAAAcXVlc3Rpb25JZAAAAAAAAAgAAAAAAAAACAAAAAAAAAByZWxlYXNlUmVzdWx0Q2FwcwAAAAAA",
        "AAABAAAAAAAAAAEAAQAAAAAAcmVxdWlyZUVhcmx5Q2FuY2VsbGF0aW9uV29ya2Fyb3VuZAAAAAAA",
        "AAEAAAAAAAAAAQABAAAAAAA=",
    ),
    (  # rpc.capnp:Join
        "AAAAACoAAAAAAAAABAAEAK8B4JAEmOH7CgAAAAEAAQBQolIlG5gSswIABwAAAAAADQAAAHoAAAAR",
        "AAAABwAAAAAAAAAAAAAADQAAAJcAAABycGMuY2FwbnA6Sm9pbgAAAAAAAAAAAAAMAAAAAgAEAAAA",
        "AAAAAAAAAAABAAAAAAA9AAAAWgAAAAAAAAAAAAAAPAAAAAEAAAA8AAAAAQAAAAEAAAAAAAAAAAAB",
        "AAEAAAA1AAAAOgAAAAAAAAAAAAAAMAAAAAIAAAA0AAAAAQAAAAIAAAABAAAAAAABAAIAAAAtAAAA",
        "QgAAAAAAAAAAAAAAKAAAAAEAAAAoAAAAAQAAAHF1ZXN0aW9uSWQAAAAAAAAIAAAAAAAAAAgAAAAA",
        "AAAAdGFyZ2V0AAAQAAAAAAAAAMH7E1hUFLyVEAAAAAAAAABrZXlQYXJ0ABIAAAAAAAAAEgAAAAAA",
        "AAA=",
    ),
    (  # rpc.capnp:Message
        "AAAAAJ0AAAAAAAAABAAEADKwjYAfn7eRCgAAAAEAAQBQolIlG5gSswEABwAAAA4ADQAAAJIAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAKcCAABycGMuY2FwbnA6TWVzc2FnZQAAAAAAAAAAAAAAAAAAADgA",
        "AAACAAQAAAD//wAAAAAAAAEAAAAAAEUBAAByAAAAAAAAAAAAAABEAQAAAgAAAEgBAAABAAAAAQD+",
        "/wAAAAAAAAEAAQAAAEEBAAAyAAAAAAAAAAAAAAA8AQAAAgAAAEABAAABAAAAAwD9/wAAAAAAAAEA",
        "AgAAADkBAAAqAAAAAAAAAAAAAAA0AQAAAgAAADgBAAABAAAABAD8/wAAAAAAAAEAAwAAADEBAAA6",
        "AAAAAAAAAAAAAAAsAQAAAgAAADABAAABAAAABQD7/wAAAAAAAAEABAAAACkBAAA6AAAAAAAAAAAA",
        "AAAkAQAAAgAAACgBAAABAAAABgD6/wAAAAAAAAEABQAAACEBAABCAAAAAAAAAAAAAAAcAQAAAgAA",
        "ACABAAABAAAABwD5/wAAAAAAAAEABgAAABkBAABCAAAAAAAAAAAAAAAUAQAAAgAAABgBAAABAAAA",
        "CQD4/wAAAAAAAAEABwAAABEBAABqAAAAAAAAAAAAAAAQAQAAAQAAABABAAABAAAAAgD3/wAAAAAA",
        "AAEACAAAAAkBAABSAAAAAAAAAAAAAAAIAQAAAgAAAAwBAAABAAAACgD2/wAAAAAAAAEACQAAAAUB",
        "AAB6AAAAAAAAAAAAAAAEAQAAAQAAAAQBAAABAAAACwD1/wAAAAAAAAEACgAAAP0AAABCAAAAAAAA",
        "AAAAAAD4AAAAAgAAAPwAAAABAAAADAD0/wAAAAAAAAEACwAAAPUAAAA6AAAAAAAAAAAAAADwAAAA",
        "AgAAAPQAAAABAAAADQDz/wAAAAAAAAEADAAAAO0AAAAqAAAAAAAAAAAAAADoAAAAAgAAAOwAAAAB",
        "AAAACADy/wAAAAAAAAEADQAAAOUAAABaAAAAAAAAAAAAAADkAAAAAgAAAOgAAAABAAAAdW5pbXBs",
        "ZW1lbnRlZAAAABAAAAAAAAAAMrCNgB+ft5EQAAAAAAAAAGFib3J0AAAAEAAAAAAAAAAaac86Brcl",
        "1hAAAAAAAAAAY2FsbAAAAAAQAAAAAAAAANRMnXjOU2qDEAAAAAAAAAByZXR1cm4AABAAAAAAAAAA",
        "OlezPY2yGZ4QAAAAAAAAAGZpbmlzaAAAEAAAAAAAAABjDvjCsi590xAAAAAAAAAAcmVzb2x2ZQAQ",
        "AAAAAAAAAG4IifpVlsK7EAAAAAAAAAByZWxlYXNlABAAAAAAAAAAl3TQfQ1sGq0QAAAAAAAAAG9i",
        "c29sZXRlU2F2ZQAAAAASAAAAAAAAABIAAAAAAAAAYm9vdHN0cmFwAAAAAAAAABAAAAAAAAAAxG4X",
        "MYDPTOkQAAAAAAAAAG9ic29sZXRlRGVsZXRlAAASAAAAAAAAABIAAAAAAAAAcHJvdmlkZQAQAAAA",
        "AAAAAFqswftrBGqcEAAAAAAAAABhY2NlcHQAABAAAAAAAAAAFkBVkGK1ydQQAAAAAAAAAGpvaW4A",
        "AAAAEAAAAAAAAACvAeCQBJjh+xAAAAAAAAAAZGlzZW1iYXJnbwAAAAAAABAAAAAAAAAAETe9D4s2",
        "ZPkQAAAAAAAAAA==",
    ),
    (  # rpc.capnp:MessageTarget
        "AAAAACQAAAAAAAAABQAEAMH7E1hUFLyVCgAAAAEAAQBQolIlG5gSswEABwAAAAIAAgAAAAAAAAAN",
        "AAAAwgAAABUAAAAHAAAAAAAAAAAAAAARAAAAZwAAAHJwYy5jYXBucDpNZXNzYWdlVGFyZ2V0AAAA",
        "AAAAAAAACAAAAAIABAAAAP//AAAAAAAAAQAAAAAAJQAAAGIAAAAAAAAAAAAAACQAAAABAAAAJAAA",
        "AAEAAAABAP7/AAAAAAAAAQABAAAAHQAAAHoAAAAAAAAAAAAAABwAAAACAAAAIAAAAAEAAABpbXBv",
        "cnRlZENhcAAAAAAACAAAAAAAAAAIAAAAAAAAAHByb21pc2VkQW5zd2VyAAAQAAAAAAAAAKAcb83W",
        "sQDYEAAAAAAAAAA=",
    ),
    (  # rpc.capnp:Payload
        "AAAAACQAAAAAAAAABAAEADt0lj0iYQ6aCgAAAAEAAABQolIlG5gSswIABwAAAAAADQAAAJIAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAGcAAABycGMuY2FwbnA6UGF5bG9hZAAAAAAAAAAAAAAAAAAAAAgA",
        "AAACAAQAAAAAAAAAAAAAAAEAAAAAACUAAABCAAAAAAAAAAAAAAAgAAAAAQAAACAAAAABAAAAAQAA",
        "AAEAAAAAAAEAAQAAABkAAABKAAAAAAAAAAAAAAAYAAAAAQABACQAAAABAAAAY29udGVudAASAAAA",
        "AAAAABIAAAAAAAAAY2FwVGFibGUAAAAAAAAAAA4AAAAAAAAAAAAAAAIAAAAQAAAAAAAAALC4hgvE",
        "3SOFDgAAAAAAAAA=",
    ),
    (  # rpc.capnp:PromisedAnswer
        "AAAAACkAAAAAAAAABAAEAKAcb83WsQDYCgAAAAEAAQBQolIlG5gSswEABwAAAAAADQAAAMoAAAAZ",
        "AAAAFwAAAAAAAAAAAAAAIQAAAGcAAABycGMuY2FwbnA6UHJvbWlzZWRBbnN3ZXIAAAAAAAAAAAQA",
        "AAABAAEAgZBWFUSUFvMBAAAAGgAAAE9wAAAAAAAACAAAAAIABAAAAAAAAAAAAAAAAQAAAAAAJQAA",
        "AFoAAAAAAAAAAAAAACQAAAABAAAAJAAAAAEAAAABAAAAAAAAAAAAAQABAAAAHQAAAFIAAAAAAAAA",
        "AAAAABwAAAABAAEAKAAAAAEAAABxdWVzdGlvbklkAAAAAAAACAAAAAAAAAAIAAAAAAAAAHRyYW5z",
        "Zm9ybQAAAAAAAAAOAAAAAAAAAAAAAAACAAAAEAAAAAAAAACBkFYVRJQW8w4AAAAAAAAA",
    ),
    (  # rpc.capnp:PromisedAnswer.Op
        "AAAAACAAAAAAAAAABAAEAIGQVhVElBbzGQAAAAEAAQCgHG/N1rEA2AAABwAAAAIADQAAAOIAAAAZ",
        "AAAABwAAAAAAAAAAAAAAFQAAAGcAAABycGMuY2FwbnA6UHJvbWlzZWRBbnN3ZXIuT3AAAAAAAAAA",
        "AAAAAAAACAAAAAIABAAAAP//AAAAAAAAAQAAAAAAJQAAACoAAAAAAAAAAAAAAPz///8AAAAA/P//",
        "/wAAAAABAP7/AQAAAAAAAQABAAAAEQAAAIIAAAAAAAAAAAAAABAAAAABAAAAEAAAAAEAAABub29w",
        "AAAAAGdldFBvaW50ZXJGaWVsZAAHAAAAAAAAAAcAAAAAAAAA",
    ),
    (  # rpc.capnp:Provide
        "AAAAACwAAAAAAAAABAAEAFqswftrBGqcCgAAAAEAAQBQolIlG5gSswIABwAAAAAADQAAAJIAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAJcAAABycGMuY2FwbnA6UHJvdmlkZQAAAAAAAAAAAAAAAAAAAAwA",
        "AAACAAQAAAAAAAAAAAAAAAEAAAAAAD0AAABaAAAAAAAAAAAAAAA8AAAAAQAAADwAAAABAAAAAQAA",
        "AAAAAAAAAAEAAQAAADUAAAA6AAAAAAAAAAAAAAAwAAAAAgAAADQAAAABAAAAAgAAAAEAAAAAAAEA",
        "AgAAAC0AAABSAAAAAAAAAAAAAAAsAAAAAQAAACwAAAABAAAAcXVlc3Rpb25JZAAAAAAAAAgAAAAA",
        "AAAACAAAAAAAAAB0YXJnZXQAABAAAAAAAAAAwfsTWFQUvJUQAAAAAAAAAHJlY2lwaWVudAAAAAAA",
        "AAASAAAAAAAAABIAAAAAAAAA",
    ),
    (  # rpc.capnp:Release
        "AAAAACEAAAAAAAAABAAEAJd00H0NbBqtCgAAAAEAAQBQolIlG5gSswAABwAAAAAADQAAAJIAAAAV",
        "AAAABwAAAAAAAAAAAAAAEQAAAGcAAABycGMuY2FwbnA6UmVsZWFzZQAAAAAAAAAAAAAAAAAAAAgA",
        "AAACAAQAAAAAAAAAAAAAAAEAAAAAACUAAAAaAAAAAAAAAAAAAAAgAAAAAQAAACAAAAABAAAAAQAA",
        "AAEAAAAAAAEAAQAAABkAAAB6AAAAAAAAAAAAAAAYAAAAAQAAABgAAAABAAAAaWQAAAAAAAAIAAAA",
        "AAAAAAgAAAAAAAAAcmVmZXJlbmNlQ291bnQAAAgAAAAAAAAACAAAAAAAAAA=",
    ),
    (  # rpc.capnp:Resolve
        "AAAAAC4AAAAAAAAABQAEAG4IifpVlsK7CgAAAAEAAQBQolIlG5gSswEABwAAAAIAAgAAAAAAAAAN",
        "AAAAkgAAABUAAAAHAAAAAAAAAAAAAAARAAAAlwAAAHJwYy5jYXBucDpSZXNvbHZlAAAAAAAAAAAA",
        "AAAAAAAADAAAAAIABAAAAAAAAAAAAAAAAQAAAAAAPQAAAFIAAAAAAAAAAAAAADwAAAABAAAAPAAA",
        "AAEAAAABAP//AAAAAAAAAQABAAAANQAAACIAAAAAAAAAAAAAADAAAAACAAAANAAAAAEAAAACAP7/",
        "AAAAAAAAAQACAAAALQAAAFIAAAAAAAAAAAAAACwAAAACAAAAMAAAAAEAAABwcm9taXNlSWQAAAAA",
        "AAAACAAAAAAAAAAIAAAAAAAAAGNhcAAAAAAAEAAAAAAAAACwuIYLxN0jhRAAAAAAAAAAZXhjZXB0",
        "aW9uAAAAAAAAABAAAAAAAAAAGmnPOga3JdYQAAAAAAAAAA==",
    ),
    (  # rpc.capnp:Return
        "AAAAAHMAAAAAAAAABQAEADpXsz2NshmeCgAAAAEAAgBQolIlG5gSswEABwAAAAYAAwAAAAAAAAAN",
        "AAAAigAAABUAAAAHAAAAAAAAAAAAAAARAAAA/wEAAHJwYy5jYXBucDpSZXR1cm4AAAAAAAAAAAAA",
        "AAAAAAAAJAAAAAMABAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAADtAAAASgAAAAAAAAAAAAAA7AAA",
        "AAEAAADsAAAAAQAAAAEAAAAgAAAAAAABAAEAAAABAAAAAAAAAOEAAACKAAAAAAAAAAAAAADkAAAA",
        "AQAAAOQAAAABAAAAAwD//wAAAAAAAAEAAgAAAAAAAAAAAAAA2QAAAEIAAAAAAAAAAAAAANQAAAAC",
        "AAAA2AAAAAEAAAAEAP7/AAAAAAAAAQADAAAAAAAAAAAAAADNAAAAUgAAAAAAAAAAAAAAzAAAAAIA",
        "AADQAAAAAQAAAAUA/f8AAAAAAAABAAQAAAAAAAAAAAAAAMUAAABKAAAAAAAAAAAAAAD8////AAAA",
        "APz///8AAAAABgD8/wAAAAAAAAEABQAAAAAAAAAAAAAAsQAAAKoAAAAAAAAAAAAAAPz///8AAAAA",
        "/P///wAAAAAHAPv/AgAAAAAAAQAGAAAAAAAAAAAAAAChAAAAsgAAAAAAAAAAAAAApAAAAAEAAACk",
        "AAAAAQAAAAgA+v8AAAAAAAABAAcAAAAAAAAAAAAAAJkAAACqAAAAAAAAAAAAAACcAAAAAQAAAJwA",
        "AAABAAAAAgAAACEAAAAAAAEACAAAAAEAAAAAAAAAkQAAAHoAAAAAAAAAAAAAAJAAAAABAAAAkAAA",
        "AAEAAABhbnN3ZXJJZAAAAAAAAAAACAAAAAAAAAAIAAAAAAAAAHJlbGVhc2VQYXJhbUNhcHMAAAAA",
        "AAAAAAEAAAAAAAAAAQABAAAAAAByZXN1bHRzABAAAAAAAAAAO3SWPSJhDpoQAAAAAAAAAGV4Y2Vw",
        "dGlvbgAAAAAAAAAQAAAAAAAAABppzzoGtyXWEAAAAAAAAABjYW5jZWxlZAAAAAAAAAAAcmVzdWx0",
        "c1NlbnRFbHNld2hlcmUAAAAAdGFrZUZyb21PdGhlclF1ZXN0aW9uAAAACAAAAAAAAAAIAAAAAAAA",
        "AGFjY2VwdEZyb21UaGlyZFBhcnR5AAAAABIAAAAAAAAAEgAAAAAAAABub0ZpbmlzaE5lZWRlZAAA",
        "AQAAAAAAAAABAAAAAAAAAA==",
    ),
    (  # rpc.capnp:ThirdPartyCapDescriptor
        "AAAAACIAAAAAAAAABAAEAH0C8OH9B3DTCgAAAAEAAQBQolIlG5gSswEABwAAAAAADQAAABIBAAAd",
        "AAAABwAAAAAAAAAAAAAAGQAAAGcAAABycGMuY2FwbnA6VGhpcmRQYXJ0eUNhcERlc2NyaXB0b3IA",
        "AAAAAAAAAAAAAAAAAAAIAAAAAgAEAAAAAAAAAAAAAAABAAAAAAAlAAAAGgAAAAAAAAAAAAAAIAAA",
        "AAEAAAAgAAAAAQAAAAEAAAAAAAAAAAABAAEAAAAZAAAAOgAAAAAAAAAAAAAAFAAAAAEAAAAUAAAA",
        "AQAAAGlkAAAAAAAAEgAAAAAAAAASAAAAAAAAAHZpbmVJZAAACAAAAAAAAAAIAAAAAAAAAA==",
    ),
)

_frames = [_b64decode("".join(parts)) for parts in _NODES]
_module = _load_node_messages(_frames, _FILE_ID, __name__)
schema = _module.schema
schemas = _module.schemas
registry = _module.registry
if not TYPE_CHECKING:
    Message = _module.Message
    Bootstrap = _module.Bootstrap
    Call = _module.Call
    Return = _module.Return
    Finish = _module.Finish
    Resolve = _module.Resolve
    Release = _module.Release
    Disembargo = _module.Disembargo
    Provide = _module.Provide
    Accept = _module.Accept
    Join = _module.Join
    MessageTarget = _module.MessageTarget
    Payload = _module.Payload
    CapDescriptor = _module.CapDescriptor
    PromisedAnswer = _module.PromisedAnswer
    ThirdPartyCapDescriptor = _module.ThirdPartyCapDescriptor
    Exception = _module.Exception
