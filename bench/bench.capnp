@0xe0b1c2d3a4f59687;
# Structs used by the benchmarks.

struct Small {
  a @0 :UInt32;
  b @1 :Int64;
  c @2 :Float64;
  d @3 :Bool;
  e @4 :UInt16;
  name @5 :Text;
}
