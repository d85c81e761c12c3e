@0xd5e4a0c3b2f19a71;
# A test schema that covers every field type, for oracle tests against pycapnp.

enum Color {
  red @0;
  green @1;
  blue @2;
  ultraViolet @3;
}

struct Inner {
  num @0 :UInt32;
  name @1 :Text;
  color @2 :Color = green;
}

struct AllTypes {
  voidField @0 :Void;
  boolField @1 :Bool;
  int8Field @2 :Int8;
  int16Field @3 :Int16;
  int32Field @4 :Int32;
  int64Field @5 :Int64;
  uint8Field @6 :UInt8;
  uint16Field @7 :UInt16;
  uint32Field @8 :UInt32;
  uint64Field @9 :UInt64;
  float32Field @10 :Float32;
  float64Field @11 :Float64;
  textField @12 :Text;
  dataField @13 :Data;
  structField @14 :Inner;
  enumField @15 :Color;
  anyField @16 :AnyPointer;

  voidList @17 :List(Void);
  boolList @18 :List(Bool);
  int8List @19 :List(Int8);
  int16List @20 :List(Int16);
  int32List @21 :List(Int32);
  int64List @22 :List(Int64);
  uint8List @23 :List(UInt8);
  uint16List @24 :List(UInt16);
  uint32List @25 :List(UInt32);
  uint64List @26 :List(UInt64);
  float32List @27 :List(Float32);
  float64List @28 :List(Float64);
  textList @29 :List(Text);
  dataList @30 :List(Data);
  structList @31 :List(Inner);
  enumList @32 :List(Color);
  nestedList @33 :List(List(Int32));
  nestedStructList @34 :List(List(Inner));

  union {
    unsetU @35 :Void;
    intU @36 :Int32;
    textU @37 :Text;
    structU @38 :Inner;
  }

  group1 :group {
    a @39 :Int16;
    b @40 :Text;
    inner :group {
      c @41 :Bool;
      d @42 :Float64;
    }
  }

  named :union {
    first @43 :UInt64;
    second @44 :List(Text);
    third :group {
      x @45 :Int8;
      y @46 :Int8;
    }
  }
}

struct Defaults {
  boolField @0 :Bool = true;
  int8Field @1 :Int8 = -123;
  int16Field @2 :Int16 = -12345;
  int32Field @3 :Int32 = -12345678;
  int64Field @4 :Int64 = -123456789012345;
  uint8Field @5 :UInt8 = 234;
  uint16Field @6 :UInt16 = 45678;
  uint32Field @7 :UInt32 = 3456789012;
  uint64Field @8 :UInt64 = 12345678901234567890;
  float32Field @9 :Float32 = 1234.5;
  float64Field @10 :Float64 = -123e45;
  textField @11 :Text = "foo";
  dataField @12 :Data = 0x"62 61 72";
  structField @13 :Inner = (num = 7, name = "seven", color = blue);
  enumField @14 :Color = ultraViolet;
  int32List @15 :List(Int32) = [1, -2, 3];
  textList @16 :List(Text) = ["plugh", "xyzzy"];
  structList @17 :List(Inner) = [(num = 1), (num = 2, name = "two")];
  boolList @18 :List(Bool) = [true, false, false, true];
  nanField @19 :Float64 = nan;
  infField @20 :Float32 = -inf;
}

interface Echo {
  echo @0 (value :Text) -> (value :Text);
  getSelf @1 () -> (cap :Echo);
}

struct WithCaps {
  cap @0 :Echo;
  caps @1 :List(Echo);
  inner @2 :WithCaps;
}

const answer :Int32 = 42;
const greeting :Text = "hello";
