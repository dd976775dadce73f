# tests/lib/net.sh: loopback helpers shared by the integration tests and the
# benchmarks (sourced, not run).

# Prints a TCP port that is free on 127.0.0.1 right now (the kernel picks
# it; another process may take it before the caller binds it, which the
# caller's start-up check then reports).
free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
