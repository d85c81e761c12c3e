@0xf06d0d1fb8b8a9e8;
# Methods for tests/schema/test_typed_fast_paths.py: single-field results of each plain type,
# several fields, and params with an unnamed union.

struct Choice {
  a @0 :Int32;
  union {
    one @1 :Text;
    two @2 :Int32;
    none @3 :Void;
  }
}

interface Answers {
  integer @0 (value :Int64) -> (value :Int64);
  small @1 (value :UInt8) -> (value :UInt8);
  text @2 (value :Text) -> (value :Text);
  flag @3 (value :Bool) -> (value :Bool);
  real @4 (value :Float64) -> (value :Float64);
  blob @5 (value :Data) -> (value :Data);
  pair @6 (a :Int32, b :Int32) -> (sum :Int32, product :Int32);
  choose @7 Choice -> (a :Int32);
}
