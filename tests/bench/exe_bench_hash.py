#!/usr/bin/python3
"""Helper of exe_bench.sh: prints the hashing throughput table, the hasher thread's CPU against sha256sum's over the same files.

usage: exe_bench_hash.py BYTES HASHER_NS_BEFORE HASHER_NS_AFTER SHA_USER_S SHA_SYS_S FILES MIB
"""
import sys
b, h0, h1, su, ss, n, mb = sys.argv[1:]
b = int(b); agent_s = (int(h1) - int(h0)) / 1e9; sha_s = float(su) + float(ss)
print()
print("## Hashing throughput")
print()
print("%s distinct executables of %s MiB (+ sleep), %.1f MiB in all, page cache warm." % (n, mb, b / 2**20))
print()
print("| hasher | CPU s | MiB/s of CPU |")
print("|---|---:|---:|")
print("| hids-hasher thread (OpenSSL EVP sha256) | %.3f | %.0f |" % (agent_s, b / 2**20 / agent_s if agent_s else 0))
print("| sha256sum (coreutils) | %.3f | %.0f |" % (sha_s, b / 2**20 / sha_s if sha_s else 0))
