#!/usr/bin/env python3
"""The bootstrap's Runtime API client against a hostile Runtime API (tests/fixtures/hostile_runtime_api.py).

    test_runtime_api.py BOOTSTRAP MODULE_DIR [unittest args]

What lambda/runtime_api.h promises when the other side misbehaves: over-long or repeated
headers are never cut short and used, nothing is read past a complete response, an event over
the payload limit is refused for its own request id and the loop goes on, and SIGTERM ends the
process within 2 s with its state saved even when the Runtime API never answers.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_runtime_api import API, MAX_PAYLOAD_BYTES, NEXT_PATH, HostileRuntimeApi, invocation  # noqa: E402
from test_bootstrap import AWS_CREDENTIALS, secret_values  # noqa: E402

BOOTSTRAP = None
MODULE_DIR = None
HEALTH = {"op": "debug.health"}


def rid(n):
    """A long id in Lambda's alphabet (hex and '-'), 264 bytes, distinct for each n: cut it to
    the length a test needs."""
    return ("%032x" % n + "-") * 8


class Runtime:
    """The bootstrap running against a HostileRuntimeApi, with its log (stderr) captured and
    its guard state file in a temporary directory."""

    def __init__(self, api, extra_env=None):
        self.api = api
        self.tmp = tempfile.TemporaryDirectory()
        self.state_file = os.path.join(self.tmp.name, "guard.json")
        self.log = tempfile.TemporaryFile()
        self.metrics = tempfile.TemporaryFile()
        env = dict(os.environ)
        for name in ("SUGA_SSM_PARAMETER_PREFIX", "HOME_ASSISTANT_URL", "BASE_URL"):
            env.pop(name, None)
        env.update({"AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                    "AWS_LAMBDA_FUNCTION_NAME": "hostile", "LOG_LEVEL": "info", "SUGA_MODULE_DIR": MODULE_DIR,
                    "SUGA_GUARD_STATE_FILE": self.state_file, "TZ": ":UTC", **AWS_CREDENTIALS})
        env.update(extra_env or {})
        self.env = env
        self.proc = subprocess.Popen([BOOTSTRAP], env=env, stdin=subprocess.DEVNULL, stdout=self.metrics,
                                     stderr=self.log)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        log = self.log_text()
        self.metrics.seek(0)
        if exc[0] is None:  # as in every tests/lambda suite: no secret it was given leaves the process
            written = {"the log": log, "the metrics": self.metrics.read().decode(errors="replace")}
            for record in self.api.requests():
                written[f"{record['method']} {record['path']}"] = repr(record["body"])
            for secret in secret_values(self.env):
                for where, text in written.items():
                    if secret in text:
                        raise AssertionError(f"a secret left the process in {where}: {secret[:6]}...")
        self.log.close()
        self.metrics.close()
        self.tmp.cleanup()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log and exc[0] is None:
                raise AssertionError(f"sanitizer report from the bootstrap:\n{log[-4000:]}")

    def wait_exit(self, timeout_s=5.0):
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the bootstrap did not exit within {timeout_s} s; log:\n{self.log_text()[-3000:]}")

    def log_text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def log_records(self):
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def state(self):
        with open(self.state_file) as f:
            return json.load(f)


def is_next(record):
    return record["method"] == "GET" and record["path"] == NEXT_PATH


def posted_to(request_id, kind):
    path = f"{API}/invocation/{request_id}/{kind}"
    return lambda record: record["method"] == "POST" and record["path"] == path


def wait_next(api, n, timeout_s=5.0):
    """Wait for the n-th /next request and return it: the runtime asks for one only after the
    previous invocation has ended."""
    limit = time.monotonic() + timeout_s
    while time.monotonic() < limit:
        nexts = [r for r in api.requests() if is_next(r)]
        if len(nexts) >= n:
            return nexts[n - 1]
        time.sleep(0.005)
    raise AssertionError(f"no {n}th /next within {timeout_s} s: {[(r['conn'], r['path']) for r in api.requests()]}")


def posts(api):
    return [r for r in api.requests() if r["method"] == "POST"]


class RequestIds(unittest.TestCase):
    def refused(self, answer, fragment):
        """The runtime must not answer the invocation at all, and end (status 1): with no usable id
        there is nobody to answer to."""
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.queue_next(answer)
            self.assertEqual(rt.wait_exit(), 1)
            self.assertEqual(posts(api), [], "no POST, in particular none to a cut id's path")
            self.assertIn(fragment, rt.log_text())

    def test_request_id_over_127_bytes_is_refused_not_cut(self):
        long_id = rid(1)[:128]
        self.refused(invocation(long_id, HEALTH), "Lambda-Runtime-Aws-Request-Id is 128 bytes long")

    def test_request_id_longer_than_the_header_buffer_is_refused(self):
        self.refused(invocation(rid(2) * 3, HEALTH), f"is {len(rid(2) * 3)} bytes long")

    def test_request_id_sent_twice_is_refused(self):
        answer = invocation("aaaa-1", HEALTH, extra_headers=["Lambda-Runtime-Aws-Request-Id: bbbb-2"])
        self.refused(answer, "Lambda-Runtime-Aws-Request-Id was sent twice")

    def test_request_id_of_127_bytes_is_served(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            request_id = rid(3)[:127]
            api.queue_next(invocation(request_id, HEALTH))
            post = api.wait_request(posted_to(request_id, "response"))
            self.assertIn("uptime_ms", json.loads(post["body"]))
            self.assertIsNone(rt.proc.poll())

    def test_over_long_trace_id_is_dropped_and_the_event_served(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.queue_next(invocation("cafe-1", {"op": "lambda.context"}, trace_id="Root=1-" + "a" * 600))
            post = api.wait_request(posted_to("cafe-1", "response"))
            self.assertIn(json.loads(post["body"])["trace_id"], (None, ""), "no cut trace id reaches the handler")
            wait_next(api, 2)
            warnings = [r for r in rt.log_records() if "left out" in r["message"]]
            self.assertEqual(len(warnings), 1, rt.log_text())
            self.assertEqual(warnings[0]["request_id"], "cafe-1")
            self.assertIn("Lambda-Runtime-Trace-Id (over 511 bytes)", warnings[0]["message"])


class Stream(unittest.TestCase):
    def test_glued_response_is_not_taken_as_the_next_event(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            glued = invocation("aaaa-1", HEALTH) + invocation("bbbb-2", {"op": "no.such_op"})
            api.queue_next(glued)
            api.queue_next(invocation("cccc-3", HEALTH))
            first = wait_next(api, 1)
            post = api.wait_request(posted_to("aaaa-1", "response"))
            self.assertNotEqual(post["conn"], first["conn"], "the connection is dropped after the extra bytes")
            third = api.wait_request(posted_to("cccc-3", "response"))
            self.assertEqual([p["path"].split("/")[-2] for p in posts(api)], ["aaaa-1", "cccc-3"],
                             "the glued response was never served")
            nexts = [r for r in api.requests() if is_next(r) and r["at"] < third["at"]]
            self.assertEqual(len(nexts), 2, "cccc-3 is the answer to the second /next")
            self.assertNotEqual(nexts[1]["conn"], first["conn"])
            self.assertIsNone(rt.proc.poll())

    def test_content_length_shorter_than_the_body(self):
        with HostileRuntimeApi() as api, Runtime(api):
            body = json.dumps(HEALTH).encode()
            api.queue_next(invocation("aaaa-1", body + b'{"op": "no.such_op"}', content_length=len(body)))
            api.queue_next(invocation("bbbb-2", HEALTH))
            first = wait_next(api, 1)
            post = api.wait_request(posted_to("aaaa-1", "response"))
            self.assertNotEqual(post["conn"], first["conn"])
            api.wait_request(posted_to("bbbb-2", "response"))

    def test_extra_bytes_after_a_post_answer_mean_a_fresh_connection(self):
        with HostileRuntimeApi() as api, Runtime(api):
            api.post_answer = lambda record: (b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
                                              b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            api.queue_next(invocation("aaaa-1", HEALTH))
            api.queue_next(invocation("bbbb-2", HEALTH))
            post = api.wait_request(posted_to("aaaa-1", "response"))
            second = wait_next(api, 2)
            self.assertNotEqual(second["conn"], post["conn"])
            api.wait_request(posted_to("bbbb-2", "response"))

    def test_headers_and_body_split_across_reads(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            whole = invocation("dead-beef-0001", HEALTH, trace_id="Root=1-5e1b4151-5ac6c58f5b5daa6532e3a1c0")
            cuts = [whole.index(b"Aws-Req") + 3, whole.index(b"beef") + 2, whole.index(b"\r\n\r\n") + 1,
                    len(whole) - 5]
            pieces = [whole[a:b] for a, b in zip([0] + cuts, cuts + [len(whole)])]
            api.queue_next(pieces)
            post = api.wait_request(posted_to("dead-beef-0001", "response"))
            self.assertIn("uptime_ms", json.loads(post["body"]))
            self.assertIsNone(rt.proc.poll())

    def test_a_response_cut_by_a_close_ends_the_runtime(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.queue_next(invocation("aaaa-1", b'{"op":', content_length=100), close=True)
            self.assertEqual(rt.wait_exit(), 1)
            self.assertEqual(posts(api), [])
            self.assertIn("closed the connection in the middle of its answer", rt.log_text())


class Oversized(unittest.TestCase):
    def check_refused_then_served(self, chunked):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            size = MAX_PAYLOAD_BYTES + 200_000
            big = b'{"op": "debug.health", "pad": "' + b"x" * (size - 33) + b'"}'
            api.queue_next(invocation("b16b-1", big, chunked=chunked))
            api.queue_next(invocation("5a11-2", HEALTH))
            first = wait_next(api, 1)
            post = api.wait_request(posted_to("b16b-1", "error"))
            body = json.loads(post["body"])
            self.assertEqual(body["errorType"], "Runtime.RequestTooLarge")
            self.assertEqual(post["headers"]["lambda-runtime-function-error-type"], "Runtime.RequestTooLarge")
            self.assertIn(f"is {len(big)} bytes", body["errorMessage"])
            self.assertIn(str(MAX_PAYLOAD_BYTES), body["errorMessage"])
            self.assertEqual(post["conn"], first["conn"], "read to its end: the connection stays usable")
            api.wait_request(posted_to("5a11-2", "response"))
            wait_next(api, 3)
            warnings = [r for r in rt.log_records() if r.get("error_type") == "Runtime.RequestTooLarge"]
            self.assertEqual(len(warnings), 1, rt.log_text())
            self.assertEqual((warnings[0]["level"], warnings[0]["request_id"]), ("warning", "b16b-1"))
            self.assertEqual(api.connections_opened(), 1)

    def test_oversized_event_is_refused_and_the_next_served(self):
        self.check_refused_then_served(chunked=False)

    def test_oversized_chunked_event_is_refused_and_the_next_served(self):
        self.check_refused_then_served(chunked=True)

    def test_oversized_event_without_request_id_is_fatal(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.queue_next(invocation(None, b"x" * (MAX_PAYLOAD_BYTES + 1)))
            self.assertEqual(rt.wait_exit(), 1)
            self.assertEqual(posts(api), [])
            self.assertIn("without a usable Lambda-Runtime-Aws-Request-Id", rt.log_text())


class Shutdown(unittest.TestCase):
    def sigterm_within_2s(self, rt):
        t0 = time.monotonic()
        rt.proc.send_signal(signal.SIGTERM)
        status = rt.wait_exit(5)
        elapsed = time.monotonic() - t0
        self.assertEqual(status, 0, rt.log_text())
        self.assertLess(elapsed, 2.0)
        return elapsed

    def test_sigterm_while_a_post_is_never_answered(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.post_answer = lambda record: None  # read, never answered
            api.queue_next(invocation("aaaa-1", HEALTH))
            api.wait_request(posted_to("aaaa-1", "response"))
            elapsed = self.sigterm_within_2s(rt)
            self.assertGreater(elapsed, 0.9, "the POST was given its grace second")
            self.assertEqual(rt.state()["requests"], 1, "the guard state is saved at exit")
            self.assertIn("stopping", rt.log_text())

    def test_sigterm_while_an_event_body_never_ends(self):
        for name, answer in [
                ("chunked", invocation("aaaa-1", HEALTH, chunked=True)[:-7]),  # no last chunk
                ("content-length", invocation("aaaa-1", HEALTH, content_length=1000))]:
            with self.subTest(name), HostileRuntimeApi() as api, Runtime(api) as rt:
                api.queue_next(answer)
                wait_next(api, 1)
                time.sleep(0.05)  # the runtime is reading the body
                self.sigterm_within_2s(rt)
                self.assertEqual(posts(api), [])
                self.assertTrue(os.path.exists(rt.state_file), "the guard state is saved at exit")

    def test_sigterm_while_waiting_for_an_event(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            wait_next(api, 1)
            self.sigterm_within_2s(rt)
            self.assertTrue(os.path.exists(rt.state_file))


class Logging(unittest.TestCase):
    def test_deadline_exceeded_writes_a_log_record(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.queue_next(invocation("dead-1", HEALTH, deadline_ms=int(time.time() * 1000) - 1000))
            post = api.wait_request(posted_to("dead-1", "error"))
            self.assertEqual(json.loads(post["body"])["errorType"], "DeadlineExceeded")
            wait_next(api, 2)
            records = [r for r in rt.log_records() if r.get("request_id") == "dead-1"]
            self.assertEqual(len(records), 1, rt.log_text())
            self.assertEqual(records[0]["level"], "warning")
            self.assertEqual(records[0]["error_type"], "DeadlineExceeded")
            self.assertIn("deadline passed", records[0]["message"])

    def test_unreadable_event_is_logged_once(self):
        with HostileRuntimeApi() as api, Runtime(api) as rt:
            api.queue_next(invocation("bad-1", b"{not json"))
            api.queue_next(invocation("600d-2", HEALTH))
            api.wait_request(posted_to("600d-2", "response"))
            wait_next(api, 3)
            bad = [r for r in rt.log_records() if r.get("request_id") == "bad-1"]
            self.assertEqual([r.get("error_type") for r in bad], ["InvalidEvent"])
            good = [r for r in rt.log_records() if r.get("request_id") == "600d-2"]
            self.assertEqual([r["message"] for r in good], ["request"], "the engine's own record, no second one")


def main():
    global BOOTSTRAP, MODULE_DIR
    if len(sys.argv) < 3:
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} BOOTSTRAP MODULE_DIR [unittest args]")
    BOOTSTRAP = os.path.abspath(sys.argv[1])
    MODULE_DIR = os.path.abspath(sys.argv[2])
    unittest.main(module="__main__", argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)


if __name__ == "__main__":
    main()
