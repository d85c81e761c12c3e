"""capnrpc_trio: the trio driver for capnrpc (not yet implemented)."""
