@0xb7e3d1c4a2f05968;
# The interface bench/rpc.py measures, served and called by each driver and by pycapnp.

interface Bench {
  ping @0 (value :UInt64) -> (value :UInt64);
  # Answers value + 1: one small round trip.

  next @1 () -> (bench :Bench);
  # Another Bench (the same object): chains of calls pipelined on each other's results.

  echo @2 (data :Data) -> (data :Data);
  # Answers the same bytes.
}
