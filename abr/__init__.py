"""Sans-I/O streaming-session logic and ABR algorithms.

Nothing here touches sockets, clocks, threads, Qt or files: callers feed events with
timestamps they own and carry out the commands they get back.
"""
