@0xd3f1c0a2b7e49566;
# The calculator of examples/calculator, plus one method for interop tests: how many objects the
# server made (values, functions) are still alive, so a test can see that releases reached it.

using Calc = import "../../examples/calculator/calculator.capnp";

interface CalculatorProbe extends(Calc.Calculator) {
  liveObjects @0 () -> (count :UInt32);
}
