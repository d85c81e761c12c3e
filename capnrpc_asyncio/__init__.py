"""capnrpc_asyncio: the asyncio driver for capnrpc (not yet implemented)."""
