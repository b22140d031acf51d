#!/usr/bin/env python3
"""End-to-end tests of the Lambda bootstrap under the local Runtime API emulator.

    test_bootstrap.py BOOTSTRAP MODULE_DIR|--packaged

BOOTSTRAP is the runtime to test: the build's lambda/bootstrap with MODULE_DIR holding the lazy
modules (suga-*.so), or, with --packaged, the one unpacked from dist/suga-lambda.zip, run with a
clean environment (only what Lambda sets, no SUGA_MODULE_DIR: the modules sit beside it, the
libraries in its lib/). Every test starts a fresh emulator and a fresh bootstrap, as a new Lambda
execution environment would be.
"""

import json
import os
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from fake_home_assistant import ALEXA_TOKEN, LONG_LIVED_TOKEN  # noqa: E402
from lambda_emulator import Emulator  # noqa: E402

BOOTSTRAP = None
MODULE_DIR = None  # None: --packaged

# Recognisable credentials every bootstrap runs with, as Lambda gives every function its role's:
# no log line, error or answer of any suite may ever contain one (Sandbox checks on exit).
AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "ASIA0SUGA0TEST0KEYID0",
                   "AWS_SECRET_ACCESS_KEY": "suga-e2e-secret-access-key/0123456789abcdefMARKER",
                   "AWS_SESSION_TOKEN": "suga-e2e-session-token+0123456789abcdefMARKER=="}
# More secrets the suites use (the fake Home Assistant's tokens; a suite may add its own): checked
# the same way.
KNOWN_SECRETS = {ALEXA_TOKEN, LONG_LIVED_TOKEN}
SECRET_WORDS = ("token", "secret", "password", "passwd", "authorization", "api_key", "apikey", "api-key",
                "access_key", "credential", "private_key", "private-key", "session", "bearer", "cookie",
                "passphrase")  # runtime/mask.c's list


def secret_values(env):
    """The secrets of an environment: the values of secret-looking names, as the runtime sees them,
    with the suites' own tokens; only those long enough to be told from ordinary text."""
    values = {v for k, v in env.items() if any(w in k.lower() for w in SECRET_WORDS)} | KNOWN_SECRETS
    return {v for v in values if len(v) >= 8 and not v.isdigit()}


def without_echoed_scope(answer, event_text):
    """The answer without event.endpoint.scope when its token is one the event itself carried:
    Home Assistant's Alexa integration hands a directive's endpoint (with its scope) back to
    Alexa, as the Smart Home protocol has it. Nothing else may carry a token."""
    scope = ((answer or {}).get("event") or {}).get("endpoint", {}).get("scope") if isinstance(answer, dict) else None
    if not isinstance(scope, dict) or not isinstance(event_text, str) or str(scope.get("token")) not in event_text:
        return answer
    answer = json.loads(json.dumps(answer))
    del answer["event"]["endpoint"]["scope"]
    return answer


class Sandbox:
    """An emulator with one bootstrap running against it; its stderr (the log) is captured. On exit
    it checks that no secret the bootstrap was given left it: not in a log line, a metrics line,
    a response, an error, or an init error."""

    def __init__(self, extra_env=None):
        self.emulator = Emulator()
        self.log = tempfile.TemporaryFile()
        self.metrics = tempfile.TemporaryFile()
        self.extra_env = {"LOG_LEVEL": "info", "SUGA_GUARD_STATE_FILE": "", **AWS_CREDENTIALS}
        if MODULE_DIR:
            self.extra_env["SUGA_MODULE_DIR"] = MODULE_DIR
        self.extra_env.update(extra_env or {})

    def __enter__(self):
        self.emulator.__enter__()
        self.runtime = self.emulator.spawn([BOOTSTRAP], clean_env=MODULE_DIR is None, extra_env=self.extra_env,
                                           stdout=self.metrics, stderr=self.log)
        return self

    def __exit__(self, *exc):
        self.emulator.__exit__(*exc)  # stops the bootstrap
        self.log.seek(0)
        log = self.log.read().decode(errors="replace")
        self.metrics.seek(0)
        metrics = self.metrics.read().decode(errors="replace")
        self.log.close()
        self.metrics.close()
        # in the sanitizer build the bootstrap is instrumented too: its reports land in its own
        # stderr, which no test log would show otherwise
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log and exc[0] is None:
                raise AssertionError(f"sanitizer report from the bootstrap:\n{log[-4000:]}")
        if exc[0] is None:
            self.check_no_secret_left(log, metrics)

    def check_no_secret_left(self, log, metrics):
        outputs = {"the log": log, "the metrics": metrics,
                   "the init error": json.dumps(self.emulator.init_error())}
        for record in self.emulator.records():
            for key in ("body", "late"):
                answer = without_echoed_scope(record.get(key), record.get("event"))
                outputs[f"the {key} of invocation {record['request_id']}"] = json.dumps(answer)
        for secret in secret_values(self.extra_env):
            escaped = json.dumps(secret)[1:-1]  # as it would appear inside JSON text
            for where, text in outputs.items():
                if secret in text or escaped in text:
                    raise AssertionError(f"a secret left the process in {where}: {secret[:6]}...")

    def call(self, event, timeout_ms=3000):
        request_id = self.emulator.invoke(event, timeout_ms=timeout_ms)
        return self.emulator.wait(request_id, timeout_s=10)

    def log_records(self):
        self.log.seek(0)
        return [json.loads(line) for line in self.log.read().decode().splitlines() if line.startswith("{")]

    def metric_lines(self):
        # the line of an invocation is written after its response: wait until the runtime asks
        # for the next event, which it does only once the invocation has ended
        self.emulator.wait_for_next(10)
        self.metrics.seek(0)
        return [json.loads(line) for line in self.metrics.read().decode().splitlines() if line.startswith("{")]


class Requests(unittest.TestCase):
    def test_direct_operation_fusion_and_batch(self):
        with Sandbox() as box:
            rec = box.call({"op": "utility.truncate", "args": {"text": "hello world", "max_bytes": 5}})
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertEqual(rec["body"], {"text": "hello", "truncated": True})
            rec = box.call({"fusion": "cache_put_get", "args": {"key": "k", "value": [1, 2]}})
            self.assertEqual(rec["body"], [1, 2])
            rec = box.call({"batch": [{"op": "cache.get", "args": {"key": "k"}}, {"op": "no.such_op"}]})
            self.assertEqual(rec["body"]["succeeded"], 1)
            self.assertEqual(rec["body"]["results"][1]["error"]["status"], "not_found")
            self.assertEqual(box.emulator.connections_opened(), 1, "one kept-alive connection")
            self.assertEqual(box.emulator.protocol_errors(), [])

    def test_handler_error_is_a_function_error(self):
        with Sandbox({"SUGA_E2E_NOT_AN_INT": "many"}) as box:
            rec = box.call({"op": "config.get", "args": {"name": "SUGA_E2E_NOT_AN_INT", "type": "int"}})
            self.assertEqual(rec["outcome"], "error", rec)
            self.assertEqual(rec["body"]["errorType"], "HandlerError")
            self.assertEqual(rec["error_type_header"], "HandlerError")
            self.assertIn("SUGA_E2E_NOT_AN_INT", rec["body"]["errorMessage"])
            rec = box.call({"op": "cache.set", "args": {"key": "k", "value": 1, "ttl": "soon"}})
            self.assertEqual(rec["body"]["errorType"], "InvalidArgument")
            self.assertEqual(rec["body"]["errorMessage"],
                             "cache.set: arg 'ttl' must be an integer in [0, 86400], got \"soon\"")

    def test_malformed_events_get_an_error_and_the_runtime_keeps_serving(self):
        with Sandbox() as box:
            for event, fragment in [(b"{not json", "not valid JSON"), ([1, 2], "must be a JSON object"),
                                    ({"hello": 1}, "neither a request")]:
                rec = box.call(event)
                self.assertEqual(rec["outcome"], "error", rec)
                self.assertEqual(rec["body"]["errorType"], "InvalidEvent")
                self.assertIn(fragment, rec["body"]["errorMessage"])
            rec = box.call({"op": "debug.health"})
            self.assertEqual(rec["outcome"], "response")
            self.assertTrue(box.runtime.alive())

    def test_logs_carry_the_request_id_and_the_context_reaches_handlers(self):
        with Sandbox() as box:
            rec = box.call({"op": "lambda.context"}, timeout_ms=5000)
            ctx = rec["body"]
            self.assertEqual(ctx["request_id"], rec["request_id"])
            self.assertEqual(ctx["deadline_ms"], rec["deadline_ms"])
            self.assertTrue(0 < ctx["remaining_ms"] <= 5000, ctx)
            self.assertEqual(ctx["trace_id"], rec["trace_id"], "_X_AMZN_TRACE_ID is set per invocation")
            self.assertEqual(ctx["memory_mb"], 128)
            self.assertTrue(ctx["on_lambda"])
            records = [r for r in box.log_records() if r.get("message") == "request"]
            self.assertEqual(records[-1]["request_id"], rec["request_id"])
            self.assertEqual(records[-1]["operation"], "lambda.context")

    def test_metrics_are_one_emf_line_per_invocation(self):
        with Sandbox() as box:
            box.call({"op": "debug.health"})
            box.call({"op": "debug.health"})
            lines = box.metric_lines()
            self.assertEqual(len(lines), 2)
            self.assertEqual(lines[0]["invocations"], 1)
            self.assertIn("_aws", lines[0])

    def test_response_over_6_mb_is_a_clear_error(self):
        with Sandbox() as box:
            big = "x" * 1_000_000
            rec = box.call({"op": "cache.set", "args": {"key": "big", "value": big}})
            self.assertEqual(rec["outcome"], "response", rec)
            rec = box.call({"batch": [{"op": "cache.get", "args": {"key": "big"}}] * 7})
            self.assertEqual(rec["outcome"], "error", rec)
            self.assertEqual(rec["body"]["errorType"], "ResponseTooLarge")
            self.assertIn("over Lambda's limit", rec["body"]["errorMessage"])
            self.assertEqual(box.call({"op": "debug.health"})["outcome"], "response")


class Routing(unittest.TestCase):
    @staticmethod
    def http_event(method, path, body=None):
        event = {"version": "2.0", "rawPath": path, "rawQueryString": "", "headers": {},
                 "requestContext": {"http": {"method": method, "path": path}}, "isBase64Encoded": False}
        if body is not None:
            event["body"] = body
        return event

    def test_http_events_follow_routes_http(self):
        with Sandbox() as box:
            rec = box.call(self.http_event("GET", "/health"))
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertEqual(rec["body"]["statusCode"], 200)
            self.assertEqual(rec["body"]["headers"]["content-type"], "application/json")
            self.assertIn("uptime_ms", json.loads(rec["body"]["body"]))
            self.assertEqual(box.call(self.http_event("GET", "/diagnostics/"))["body"]["statusCode"], 200)
            self.assertEqual(box.call(self.http_event("GET", "/nope"))["body"]["statusCode"], 404)
            wrong = box.call(self.http_event("POST", "/health"))["body"]
            self.assertEqual(wrong["statusCode"], 405)
            self.assertEqual(wrong["headers"]["allow"], "GET")
            self.assertEqual(json.loads(wrong["body"])["error"]["status"], "method_not_allowed")
            rest = {"httpMethod": "GET", "path": "/health", "requestContext": {"stage": "prod"}}
            self.assertEqual(box.call(rest)["body"]["statusCode"], 200, "API Gateway REST (1.0) events too")

    def test_alexa_directives_are_routed_to_the_bridge(self):
        with Sandbox() as box:  # no HOME_ASSISTANT_URL: the bridge answers with an Alexa error event
            directive = {"directive": {"header": {"namespace": "Alexa.Discovery", "name": "Discover",
                                                  "payloadVersion": "3", "messageId": "m-1"},
                                       "payload": {"scope": {"type": "BearerToken", "token": "secret"}}}}
            rec = box.call(directive)
            self.assertEqual(rec["outcome"], "response", rec)
            from alexa_schema import assert_valid  # noqa: E402 (only this test writes Alexa answers)
            assert_valid(self, rec["body"])
            event = rec["body"]["event"]
            self.assertEqual(event["header"]["name"], "ErrorResponse")
            self.assertEqual(event["payload"]["type"], "INTERNAL_ERROR")
            self.assertIn("HOME_ASSISTANT_URL is not set", event["payload"]["message"])
            records = [r for r in box.log_records() if r.get("message") == "request"]
            self.assertEqual(records[-1]["operation"], "alexa.smart_home", "routes.alexa in spec/routes.yaml")
            self.assertEqual(records[-1]["correlation_id"], "m-1", "Alexa's messageId is the correlation id")
            self.assertNotIn("secret", json.dumps(box.log_records()), "tokens never reach the log")


class Lifecycle(unittest.TestCase):
    def test_init_failure_is_posted_to_init_error(self):
        with Sandbox({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}) as box:
            self.assertEqual(box.runtime.wait(10), 1)
            err = box.emulator.init_error()
            self.assertIsNotNone(err)
            self.assertEqual(err["body"]["errorType"], "Runtime.InvalidConfiguration")
            self.assertIn("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", err["body"]["errorMessage"])

    def test_a_bad_setting_is_an_init_failure(self):
        with Sandbox({"BASE_URL": "ftp://homeassistant.local"}) as box:
            self.assertEqual(box.runtime.wait(10), 1)
            err = box.emulator.init_error()
            self.assertEqual(err["body"]["errorType"], "Runtime.InvalidConfiguration")
            self.assertEqual(err["body"]["errorMessage"],
                             "BASE_URL must start with http:// or https://, got \"ftp://homeassistant.local\"")

    def test_a_missing_lazy_module_is_an_init_failure(self):
        with tempfile.TemporaryDirectory() as empty, Sandbox({"SUGA_MODULE_DIR": empty}) as box:
            self.assertEqual(box.runtime.wait(10), 1)
            err = box.emulator.init_error()
            self.assertEqual(err["body"]["errorType"], "Runtime.MissingModule")
            self.assertIn("suga-security.so", err["body"]["errorMessage"])

    def test_deadline_exceeded_then_the_next_invocation_is_served(self):
        with Sandbox() as box:
            self.assertIsNotNone(box.emulator.wait_for_next(10))
            os.kill(box.runtime.pid, signal.SIGSTOP)  # the event is handed out while it cannot run
            try:
                request_id = box.emulator.invoke({"op": "debug.health"}, timeout_ms=20)
                rec = box.emulator.wait(request_id, timeout_s=5)
            finally:
                os.kill(box.runtime.pid, signal.SIGCONT)
            self.assertEqual(rec["outcome"], "timeout", rec)
            self.assertEqual(box.call({"op": "debug.health"})["outcome"], "response")
            late = box.emulator.record(request_id)["late"]
            self.assertIsNotNone(late, "the bootstrap answered the expired invocation")
            self.assertIn("DeadlineExceeded", json.dumps(late))

    def test_sigterm_saves_state_and_exits_cleanly(self):
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "guard.json")
            with Sandbox({"SUGA_GUARD_STATE_FILE": state}) as box:
                box.call({"op": "debug.health"})
                self.assertIsNotNone(box.emulator.wait_for_next(10))
                status, killed = box.runtime.stop(grace_s=5)
                self.assertEqual((status, killed), (0, False))
                with open(state) as f:
                    self.assertEqual(json.load(f)["requests"], 1)


def main():
    """Run the calling script's tests (this file's, or those of a suite built on Sandbox):
    its arguments are BOOTSTRAP MODULE_DIR|--packaged [unittest args]."""
    global BOOTSTRAP, MODULE_DIR
    script = os.path.basename(sys.argv[0])
    if len(sys.argv) < 3:
        sys.exit(f"usage: {script} BOOTSTRAP MODULE_DIR|--packaged [unittest args]")
    BOOTSTRAP = os.path.abspath(sys.argv[1])
    MODULE_DIR = None if sys.argv[2] == "--packaged" else os.path.abspath(sys.argv[2])
    unittest.main(module="__main__", argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)


if __name__ == "__main__":
    main()
