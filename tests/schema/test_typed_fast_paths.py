"""The typed layer's fast paths agree with its general paths, byte for byte and error for error.

Covered: params and results messages made from a method's cached plan (``MethodInfo.new_params``
/ ``new_results``) against ``new_message``; a keyword-only call of a generated method against
``_send`` by name (both reach ``_call``, whose keyword-only case comes first); a plain value
answered through the single field's cached setter against setting the field by name; the params
a method receives through the fields' getters against reading the params reader's attributes
(with a union); ``driver.invoke`` telling awaitables from the plain values it does not ask
``inspect.isawaitable`` about.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import capnrpc_core
from capnrpc_core import driver
from capnrpc_core.schema.errors import FieldTypeError
from capnrpc_core.schema.interfaces import (
    CallContext,
    Client,
    Invocation,
    MethodInfo,
    _positional_names,
    _results_from,
    bootstrap_client,
)
from tests.schema.test_interfaces import MemNet, assert_clean
from tests.services import SCHEMAS, rpctest

answers: Any = capnrpc_core.load(SCHEMAS / "fastpath.capnp")
rpcbench: Any = capnrpc_core.load(SCHEMAS.parent.parent / "bench" / "rpcbench.capnp")

INTERFACES = [
    rpctest.Base,
    rpctest.Echo,
    rpctest.Counter,
    rpctest.Callback,
    rpctest.Sink,
    answers.Answers,
    rpcbench.Bench,
]


@pytest.fixture
def net() -> MemNet:
    return MemNet()


def infos(interface: Any) -> list[MethodInfo]:
    found: list[MethodInfo] = interface._method_infos()
    return found


def info_of(interface: Any, name: str) -> MethodInfo:
    return next(i for i in infos(interface) if i.name == name)


@pytest.mark.parametrize("interface", INTERFACES, ids=lambda i: i.__name__)
def test_new_params_and_results_are_new_messages(interface: Any) -> None:
    for info in infos(interface):
        for made, general, rtype in (
            (info.new_params(), info.params_type.new_message(32), info.params_type),
            (info.new_results(), info.results_type.new_message(32), info.results_type),
        ):
            assert type(made) is rtype.Builder is type(general), info
            assert made.to_bytes() == general.to_bytes(), info
            assert made.wire.message.caps == [] and made._root


class Recorder:
    """Wraps ``Client._send_built`` to keep the bytes of every params message sent."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[bytes] = []
        original = Client._send_built

        def send_built(client: Client, info: MethodInfo, builder: Any) -> Any:
            self.sent.append(builder.to_bytes())
            return original(client, info, builder)

        monkeypatch.setattr(Client, "_send_built", send_built)

    def take(self) -> list[bytes]:
        sent, self.sent = self.sent, []
        return sent


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[type[BaseException], str]:
    with pytest.raises(Exception) as info:
        call(*args, **kwargs)
    return info.type, str(info.value)


def test_keyword_calls_send_what_the_general_path_sends(
    net: MemNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = net.runtime("alice")
    bob = net.runtime("bob")
    bob.serve(PlainAnswers())
    link = net.link(alice, bob)
    client = bootstrap_client(alice, link.ca, answers.Answers)
    recorder = Recorder(monkeypatch)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("integer", {"value": -5}),
        ("small", {"value": 255}),
        ("text", {"value": "héllo"}),
        ("flag", {"value": True}),
        ("real", {"value": 2.5}),
        ("blob", {"value": b"\x00\x01"}),
        ("pair", {"a": 3, "b": 4}),
        ("pair", {}),
        ("choose", {"a": 1, "two": 7}),
    ]
    for name, kwargs in calls:
        fast = getattr(client, name)(**kwargs)
        general = client._send(name, **kwargs)
        assert fast.wait().to_dict() == general.wait().to_dict()
        first, second = recorder.take()
        assert first == second, name
    # Bad keywords fail alike, and send nothing.
    for name, kwargs in [
        ("integer", {"nope": 1}),
        ("small", {"value": 256}),
        ("text", {"value": 3}),
        ("pair", {"a": "x"}),
        ("choose", {"which": "one", "bad": 1}),
    ]:
        fast = error_of(getattr(client, name), **kwargs)
        assert fast == error_of(client._send, name, **kwargs), name
    assert recorder.take() == []
    client.release()
    assert_clean(net, link)


class PlainAnswers(answers.Answers.Server):  # type: ignore[misc]
    """Answers every single-field method with its value, as a bare value."""

    def __init__(self) -> None:
        self.chosen: list[dict[str, Any]] = []

    def integer(self, value: int) -> int:
        return value

    def small(self, value: int) -> int:
        return value

    def text(self, value: str) -> str:
        return value

    def flag(self, value: bool) -> bool:
        return value

    def real(self, value: float) -> float:
        return value

    def blob(self, value: bytes) -> bytes:
        return value

    def pair(self, a: int, b: int) -> tuple[int, int]:
        return a + b, a * b

    def choose(self, **kwargs: Any) -> int:
        context = kwargs.pop("_context")
        params = context.params
        # What the general path would give: the attributes of the params reader, for the
        # fields outside the union and the union member that is set.
        general = {"a": params.a, str(params.which): getattr(params, str(params.which))}
        assert kwargs == general
        self.chosen.append(kwargs)
        return int(kwargs["a"])


def test_params_read_through_getters_match_the_readers_attributes(net: MemNet) -> None:
    alice = net.runtime("alice")
    bob = net.runtime("bob")
    impl = PlainAnswers()
    bob.serve(impl)
    link = net.link(alice, bob)
    client = bootstrap_client(alice, link.ca, answers.Answers)
    assert client.choose(a=1, one="x").wait().a == 1
    assert client.choose(a=2, two=5).wait().a == 2
    assert client.choose(a=3, none=None).wait().a == 3
    assert client.choose(a=4).wait().a == 4  # the union's first member, unset: ""
    assert impl.chosen == [
        {"a": 1, "one": "x"},
        {"a": 2, "two": 5},
        {"a": 3, "none": None},
        {"a": 4, "one": ""},
    ]
    client.release()
    assert_clean(net, link)


def context_for(info: MethodInfo) -> CallContext:
    return CallContext(None, None, info, None)  # type: ignore[arg-type]


def general_results(info: MethodInfo, value: object) -> Any:
    """What ``_results_from`` did for a plain value before the fast path: set it by name."""
    builder = info.results_type.new_message(32)
    builder._set(_positional_names(info.results_type)[0], value)
    return builder


PLAIN_VALUES: list[object] = [
    0,
    -1,
    255,
    256,
    2**63,
    -(2**63) - 1,
    True,
    False,
    1.5,
    float("inf"),
    "",
    "text",
    b"",
    b"data",
]


@pytest.mark.parametrize("method", ["integer", "small", "text", "flag", "real", "blob"])
def test_single_field_answers_match_the_general_path(method: str) -> None:
    info = info_of(answers.Answers, method)
    for value in PLAIN_VALUES:
        fast_context = context_for(info)
        invocation = Invocation(lambda: None, {}, fast_context)
        try:
            general = general_results(info, value)
        except Exception as exc:
            with pytest.raises(type(exc)) as raised:
                _results_from(invocation, value)
            assert str(raised.value) == str(exc)
            continue
        fast = _results_from(invocation, value)
        assert fast is fast_context._results
        assert fast.to_bytes() == general.to_bytes(), (method, value)


def test_single_field_answers_reuse_the_context_results() -> None:
    info = info_of(rpctest.Base, "ping")
    context = context_for(info)
    context.results.value = 1
    first = context._results
    assert _results_from(Invocation(lambda: None, {}, context), 9) is first
    assert first.value == 9


def test_plain_values_into_several_fields_still_fail() -> None:
    info = info_of(answers.Answers, "pair")
    assert info.single_setter() is None
    with pytest.raises(FieldTypeError, match="returned int"):
        _results_from(Invocation(lambda: None, {}, context_for(info)), 3)


def test_invoke_hands_back_awaitables_and_answers_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answered: list[object] = []
    monkeypatch.setattr(
        driver, "finish_delivery", lambda runtime, delivery, inv, value: answered.append(value)
    )

    async def later() -> int:
        return 1

    class Awaitable(tuple[int, ...]):
        """A tuple subclass that is awaitable: the exact-type shortcut must not skip it."""

        def __await__(self) -> Any:
            return later().__await__()

    plain: list[object] = [None, 1, 1.5, True, "s", b"b", (1, 2), {"a": 1}, [1]]
    for value in plain:
        invocation = Invocation(lambda value=value: value, {}, None)  # type: ignore[arg-type]
        assert driver.invoke(None, None, invocation) is None  # type: ignore[arg-type]
    assert answered == plain
    answered.clear()
    coroutine = later()
    invocation = Invocation(lambda: coroutine, {}, None)  # type: ignore[arg-type]
    assert driver.invoke(None, None, invocation) is coroutine  # type: ignore[arg-type]
    assert asyncio.run(coroutine) == 1  # type: ignore[arg-type]
    odd = Awaitable((1,))
    invocation = Invocation(lambda: odd, {}, None)  # type: ignore[arg-type]
    assert driver.invoke(None, None, invocation) is odd  # type: ignore[arg-type]
    assert answered == []
