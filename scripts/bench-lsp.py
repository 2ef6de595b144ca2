#!/usr/bin/env python3
"""Times `kubectl-kedalint lsp` as an editor sees it, over real stdio: didOpen to
publishDiagnostics for the seed example, for a document with no KEDA object and for a large
multi-document file, and how many lints a burst of edits costs.

Usage: scripts/bench-lsp.py [BINARY]   (default: builds and uses the release binary)
Prints figures and the load average; run on an idle machine.
"""
import json
import os
import statistics
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) > 1:
    binary = sys.argv[1]
else:
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "kubectl-kedalint"], cwd=root, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    binary = os.path.join(target, "release", "kubectl-kedalint")

server = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root)
next_id = 0


def send(message):
    body = json.dumps(message).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    server.stdin.flush()


def receive():
    length = None
    while True:
        line = server.stdout.readline()
        if not line:
            sys.exit("the server closed its stdout")
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(server.stdout.read(length))


def request(method, params):
    global next_id
    next_id += 1
    send({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params})
    while True:
        m = receive()
        if m.get("id") == next_id and "method" not in m:
            return m
        if "id" in m and "method" in m:
            send({"jsonrpc": "2.0", "id": m["id"], "result": None})


def notify(method, params):
    send({"jsonrpc": "2.0", "method": method, "params": params})


def diagnostics(uri, version):
    """Waits for diagnostics of uri at version; returns (list, publications before it)."""
    earlier = 0
    while True:
        m = receive()
        if "id" in m and "method" in m:
            send({"jsonrpc": "2.0", "id": m["id"], "result": None})
        if m.get("method") != "textDocument/publishDiagnostics" or m["params"]["uri"] != uri:
            continue
        if m["params"].get("version") == version:
            return m["params"]["diagnostics"], earlier
        earlier += 1


def open_ms(uri, text):
    start = time.perf_counter()
    notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    found, _ = diagnostics(uri, 1)
    return (time.perf_counter() - start) * 1000, len(found)


request("initialize", {"processId": None, "rootUri": "file://" + root, "capabilities": {}})
notify("initialized", {})
seed = open(os.path.join(root, "examples", "inference-p95-latency.yaml")).read()
plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n"
large = "\n---\n".join([seed] * 2000)
print(f"binary: {binary}")
print(f"load average: {os.getloadavg()}")
for label, text, runs in [("seed example", seed, 20), ("ConfigMap (no KEDA object)", plain, 20),
                          (f"2000 ScaledObjects, {len(large) // 1024} KiB", large, 3)]:
    times = []
    for i in range(runs):
        ms, n = open_ms(f"file:///bench/{abs(hash(label))}-{i}.yaml", text)
        times.append(ms)
    print(f"didOpen -> diagnostics, {label}: median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs, {n} diagnostics)")

uri = "file:///bench/burst.yaml"
open_ms(uri, seed)
burst = 100
start = time.perf_counter()
for v in range(2, burst + 2):
    notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v},
                                      "contentChanges": [{"text": seed.replace("[1m]", f"[{v}m]")}]})
sent = time.perf_counter()
found, earlier = diagnostics(uri, burst + 1)
done = time.perf_counter()
print(f"burst of {burst} didChange sent in {(sent - start) * 1000:.1f} ms: {earlier} earlier versions "
      f"linted, the last one published {(done - sent) * 1000:.1f} ms after the last change")
request("shutdown", None)
notify("exit", None)
server.wait()
