@0xa5b175046ffbc553;
# A calculator service, after the classic Cap'n Proto example: the client sends whole expression
# trees, gets results back as capabilities it can feed into later expressions without fetching
# them, and can hand the server functions of its own to call back.

interface Calculator {
  evaluate @0 (expression :Expression) -> (value :Value);
  # Evaluate `expression`. The result is a Value capability: read() fetches the number, or pass
  # the capability itself into another expression (as `previous`) without fetching anything.

  defFunction @1 (paramCount :Int32, body :Expression) -> (func :Function);
  # A function of `paramCount` parameters defined by `body`, in which `parameter` expressions
  # refer to the arguments.

  getOperator @2 (op :Operator) -> (func :Function);
  # One of the built-in binary operators, as a Function.

  struct Expression {
    union {
      literal @0 :Float64;          # a number
      previous @1 :Value;           # a value computed earlier (maybe still being computed)
      parameter @2 :UInt32;         # argument number N of the enclosing defFunction body
      call :group {                 # a function applied to argument expressions
        function @3 :Function;
        params @4 :List(Expression);
      }
    }
  }

  interface Value {
    read @0 () -> (value :Float64);
  }

  interface Function {
    call @0 (params :List(Float64)) -> (value :Float64);
    # The server calls this on functions the client defines, too.
  }

  enum Operator {
    add @0;
    subtract @1;
    multiply @2;
    divide @3;
    power @4;
  }
}
