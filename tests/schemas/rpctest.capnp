@0xbef5e40da8dfabd3;
# Interfaces for the typed-RPC and driver tests (tests/schema/test_interfaces.py, tests/trio).

struct Point {
  x @0 :Int32;
  y @1 :Int32;
}

interface Base {
  ping @0 (value :UInt32) -> (value :UInt32);
}

interface Echo extends(Base) {
  echo @0 (text :Text) -> (text :Text);
  fail @1 (message :Text, kind :Text) -> ();
  hold @2 () -> ();
  getSelf @3 () -> (self :Echo);
  newCounter @4 (start :Int64) -> (counter :Counter);
  callBack @5 (callback :Callback, value :Int64) -> (result :Int64);
  info @6 (point :Point, label :Text) -> (info :Info);
  sink @7 () -> (sink :Sink);
  multi @8 (a :Int32, b :Int32) -> (sum :Int32, product :Int32);
  keep @9 (cap :Counter) -> ();
  kept @10 () -> (cap :Counter);
}

struct Info {
  point @0 :Point;
  counter @1 :Counter;
  labels :group {
    label @2 :Text;
    echo @3 :Echo;
  }
  any @4 :AnyPointer;
}

interface Counter {
  next @0 () -> (value :Int64);
}

interface Callback {
  call @0 (value :Int64) -> (value :Int64);
}

interface Sink {
  write @0 (data :Data) -> stream;
  done @1 () -> (total :UInt64, writes :UInt32);
}
