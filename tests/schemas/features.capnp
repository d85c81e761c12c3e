@0xe3a1c2b4d5f60718;
# Schema features beyond alltypes.capnp: generics, inheritance, streaming, nesting, imports,
# annotations, constants of pointer types, keyword field names.

using Inner = import "alltypes.capnp".Inner;
using Color = import "alltypes.capnp".Color;
using Stream = import "/capnp/stream.capnp";

annotation note(struct, field, enum, interface, method) :Text;

struct Box(T) {
  value @0 :T;
  label @1 :Text;
}

struct Pair(A, B) {
  first @0 :A;
  second @1 :B;
}

struct UsesGenerics {
  textBox @0 :Box(Text);
  innerBox @1 :Box(Inner);
  pair @2 :Pair(Text, Inner);
  anyBox @3 :Box;
  boxes @4 :List(Box(Inner));
}

struct Outer $note("outer") {
  struct Middle {
    struct Deep {
      x @0 :UInt8;
    }
    deep @0 :Deep;
    enum Mode { on @0; off @1; }
    mode @1 :Mode = off;
  }
  middle @0 :Middle;
  inner @1 :Inner $note("imported");
  color @2 :Color = blue;
  return @3 :UInt32;
  import @4 :Text;
  which @5 :Int16;
  schema @6 :Bool;
}

struct Tree {
  label @0 :Text;
  children @1 :List(Tree);
  parent @2 :Tree;
}

interface Base {
  ping @0 () -> ();
}

interface Derived extends(Base) $note("derived") {
  push @0 (data :Data) -> stream;
  get @1 [U] (key :Text) -> (value :U);
  struct Nested { n @0 :Int32; }
}

const listConst :List(Int32) = [1, 2, 3];
const structConst :Inner = (num = 3, name = "three");
const dataConst :Data = 0x"01 02";
const colorConst :Color = ultraViolet;
const floatConst :Float32 = 1.5;
const voidConst :Void = void;
