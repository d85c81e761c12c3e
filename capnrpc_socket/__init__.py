"""capnrpc_socket: the socket driver for capnrpc (not yet implemented)."""
