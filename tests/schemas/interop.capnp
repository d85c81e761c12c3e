@0xc4a5e1d2b3f40617;
# Interop with the C++ reference (through pycapnp): one interface exercising each behaviour.

interface Peer {
  echo @0 (text :Text) -> (text :Text);
  getSelf @1 () -> (peer :Peer);
  fail @2 (reason :Text) -> ();
  callBack @3 (callback :Callback, value :Int64) -> (value :Int64);
  later @4 (value :Int64) -> (thing :Thing);
  newThing @5 (value :Int64) -> (thing :Thing);
  hold @6 (thing :Thing) -> ();
  heldCount @7 () -> (count :UInt32);
  dropHeld @8 () -> ();
  write @9 (data :Data) -> stream;
  written @10 () -> (bytes :UInt64);
  liveThings @11 () -> (count :UInt32);
  promiseThing @12 (value :Int64) -> (thing :Thing);
  resolvePromised @13 () -> ();
}

interface Thing {
  value @0 () -> (value :Int64);
  next @1 () -> (thing :Thing);
}

interface Callback {
  call @0 (value :Int64) -> (value :Int64);
}
