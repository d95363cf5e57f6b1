"""The daemon's local IPC: newline-delimited JSON over a private Unix socket.

protocol.py (the wire format, pure functions), server.py (IpcServer, in the daemon), slots.py (its
connection slots), streaming.py (its event streams), client.py (IpcClient, in the CLI), sockets.py (private
bind, stale sockets, peer credentials).
Nothing is imported here, so the CLI's quick commands load only the client.
"""
