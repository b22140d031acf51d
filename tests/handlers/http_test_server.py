#!/usr/bin/env python3
"""A small HTTP/1.1 server for tests/handlers/test_http_client.c (standard library only).

Listens on 127.0.0.1 (port 0 = any free port; the chosen one is printed as "PORT <n>" on the first
line of stdout) and keeps connections alive, so the client's connection reuse can be observed.

  /json              200, application/json: {"ok": true, "items": [1, 2, 3], "name": "suga"}
  /text              200, text/plain: "hello, suga\\n"
  /status/NNN        status NNN with a JSON body {"status": NNN}; 401 answers text/plain as Home
                     Assistant does, 503 adds Retry-After: 7, 3xx adds Location: /json
  /slow/MS           waits MS milliseconds, then answers like /json
  /big/BYTES         BYTES bytes of "x" (text/plain); ?chunked=1 sends them chunked, without a
                     Content-Length, so only the client's running count can stop it
  /badjson           200, application/json, a body that is not JSON
  /badjson/NNN       the same with status NNN
  /reflect-badjson?header=NAME
                     200, application/json, a body that is not JSON and quotes the last word of
                     the request's header NAME: a parse error then quotes that word (the
                     secret-masking tests; nothing else here ever sends a secret back)
  /bigheader/BYTES   200 JSON with a response header X-Big of BYTES bytes (libcurl refuses one
                     past 100 KB)
  /binary            200, application/octet-stream, bytes that are not UTF-8
  /empty             204, no body
  /close             200 JSON, then the server closes the connection
  /echo              200 JSON: {method, path, headers (lower-case names), body, client_port,
                     connection_requests, authorization_present, authorization_matches}. The values
                     of Authorization and other secret-looking headers are never echoed ("<not
                     echoed>"): authorization_matches says whether it was "Bearer <--token>", sigv4
                     the shape of an AWS SigV4 Authorization (scope, signed headers), or null
Every method is accepted on every path. With --tls-cert/--tls-key it serves HTTPS instead.
"""
import argparse
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# headers whose values /echo never sends back (the names suga_util_is_secret_name matches)
SECRET_WORDS = ("token", "secret", "password", "passwd", "authorization", "api_key", "apikey", "api-key",
                "credential", "private_key", "private-key", "session", "bearer", "cookie", "passphrase")


def sigv4_parts(authorization):
    """The shape of an AWS SigV4 Authorization header, without the access key id or the
    signature: {algorithm, scope (DATE/REGION/SERVICE/aws4_request), signed_headers,
    signature_hex_length}; None for any other Authorization. (tests/fixtures/fake_cloudwatch.py
    checks the signature itself.)"""
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    credential = fields.get("Credential", "")
    signature = fields.get("Signature", "")
    return {"algorithm": algorithm, "scope": credential.partition("/")[2],
            "signed_headers": fields.get("SignedHeaders", "").split(";"),
            "signature_hex_length": len(signature) if all(c in "0123456789abcdef" for c in signature) else -1}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # headers and body go out as two writes: with Nagle's algorithm the second waits for the
    # client's delayed ACK (~40 ms) on a kept-alive connection, which is not the client's time
    disable_nagle_algorithm = True
    server_version = "suga-http-test/1"
    token = ""

    def setup(self):
        super().setup()
        self.connection_requests = 0

    def log_message(self, format, *args):  # quiet: the test reads stdout for the port only
        pass

    def send(self, status, body=b"", content_type="application/json", extra=None, chunked=False, close=False):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif status != 204 and status != 304 and not (100 <= status < 200):
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD" or status == 204:
            return
        if chunked:
            step = 4096
            for i in range(0, len(body), step):
                part = body[i:i + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def json(self, status, value, **kw):
        self.send(status, json.dumps(value).encode(), **kw)

    def handle_any(self):
        self.connection_requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        parts = [p for p in path.split("/") if p]
        try:
            self.route(parts, query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self, parts, query, body):
        head = parts[0] if parts else ""
        arg = parts[1] if len(parts) > 1 else None
        if head == "json":
            self.json(200, {"ok": True, "items": [1, 2, 3], "name": "suga"})
        elif head == "text":
            self.send(200, b"hello, suga\n", "text/plain; charset=utf-8")
        elif head == "status" and arg and arg.isdigit():
            status = int(arg)
            if status == 401:
                self.send(401, b"401: Unauthorized", "text/plain; charset=utf-8")
            elif status == 503:
                self.json(503, {"status": 503}, extra={"Retry-After": "7"})
            elif 300 <= status < 400:
                self.json(status, {"status": status}, extra={"Location": "/json"})
            else:
                self.json(status, {"status": status})
        elif head == "slow" and arg and arg.isdigit():
            time.sleep(int(arg) / 1000.0)
            self.json(200, {"ok": True, "slept_ms": int(arg)})
        elif head == "big" and arg and arg.isdigit():
            self.send(200, b"x" * int(arg), "text/plain", chunked="chunked=1" in query)
        elif head == "badjson":
            status = int(arg) if arg and arg.isdigit() else 200
            self.send(status, b'{"ok": tru', "application/json")
        elif head == "reflect-badjson":
            name = query.partition("header=")[2].partition("&")[0]
            words = (self.headers.get(name) or "").split()
            self.send(200, b'"' + (words[-1] if words else "").encode(), "application/json")
        elif head == "bigheader" and arg and arg.isdigit():
            self.json(200, {"ok": True}, extra={"X-Big": "x" * int(arg)})
        elif head == "binary":
            self.send(200, b"ab\xff\xfecd\xc3", "application/octet-stream")
        elif head == "empty":
            self.send(204, content_type=None)
        elif head == "close":
            self.json(200, {"ok": True}, close=True)
        elif head == "echo":
            headers = {}
            for name, value in self.headers.items():
                lower = name.lower()
                if any(word in lower for word in SECRET_WORDS):
                    value = "<not echoed>"
                headers[lower] = value
            self.json(200, {
                "method": self.command,
                "path": self.path,
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "client_port": self.client_address[1],
                "connection_requests": self.connection_requests,
                "authorization_present": "authorization" in {k.lower() for k in self.headers.keys()},
                "authorization_matches": self.headers.get("Authorization") == "Bearer " + self.token,
                "sigv4": sigv4_parts(self.headers.get("Authorization", "")),
            })
        else:
            self.json(404, {"message": "no route " + self.path})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that hangs up mid-answer (libcurl refusing an oversized header, a timeout) is
        # what those tests do on purpose; anything else is still printed
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="... and this private key (PEM)")
    opts = ap.parse_args()
    Handler.token = opts.token
    server = Server(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if opts.tls_cert:
        # a handshake the client refuses raises ssl.SSLError (an OSError) in accept, which
        # socketserver ignores: the server keeps serving
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(opts.tls_cert, opts.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    # stop when the test closes our stdin (it also sends SIGTERM; this covers a crashed test)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
