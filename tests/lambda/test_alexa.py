#!/usr/bin/env python3
"""The Alexa Smart Home bridge end to end: directives through the bootstrap under the Runtime
API emulator, routed by spec/routes.yaml to alexa.smart_home, forwarded to the fake Home
Assistant's Alexa integration.

    test_alexa.py BOOTSTRAP MODULE_DIR
"""

import json
import os
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import test_bootstrap  # noqa: E402
from fake_home_assistant import ALEXA_TOKEN, LONG_LIVED_TOKEN, FakeHomeAssistant  # noqa: E402


def directive(namespace, name, endpoint_id=None, token=ALEXA_TOKEN, payload=None, correlation="corr-1"):
    d = {"header": {"namespace": namespace, "name": name, "messageId": str(uuid.uuid4()), "payloadVersion": "3",
                    "correlationToken": correlation},
         "payload": payload if payload is not None else {}}
    if endpoint_id:
        d["endpoint"] = {"endpointId": endpoint_id, "scope": {"type": "BearerToken", "token": token}}
    elif token:
        d["payload"].setdefault("scope", {"type": "BearerToken", "token": token})
    return {"directive": d}


class Alexa(unittest.TestCase):
    def setUp(self):
        self.ha = FakeHomeAssistant(tokens=[LONG_LIVED_TOKEN, ALEXA_TOKEN])
        self.ha.__enter__()
        self.env = {"HOME_ASSISTANT_URL": self.ha.url}

    def tearDown(self):
        self.ha.__exit__(None, None, None)

    def event(self, box, d):
        rec = box.call(d, timeout_ms=8000)
        self.assertEqual(rec["outcome"], "response", rec)
        return rec["body"]["event"], rec

    def test_discovery_power_brightness_and_report_state(self):
        with test_bootstrap.Sandbox(self.env) as box:
            event, _ = self.event(box, directive("Alexa.Discovery", "Discover"))
            self.assertEqual(event["header"]["name"], "Discover.Response")
            ids = [e["endpointId"] for e in event["payload"]["endpoints"]]
            self.assertTrue(any("kitchen" in i for i in ids), ids)
            kitchen = next(i for i in ids if "light" in i and "kitchen" in i)
            event, _ = self.event(box, directive("Alexa.PowerController", "TurnOff", kitchen))
            self.assertEqual(event["header"]["name"], "Response")
            self.assertEqual(event["header"]["correlationToken"], "corr-1")
            self.assertEqual(self.ha.state("light.kitchen")["state"], "off")
            self.event(box, directive("Alexa.PowerController", "TurnOn", kitchen))
            self.assertEqual(self.ha.state("light.kitchen")["state"], "on")
            self.event(box, directive("Alexa.BrightnessController", "SetBrightness", kitchen,
                                      payload={"brightness": 40}))
            self.assertEqual(round(self.ha.state("light.kitchen")["attributes"]["brightness"] * 100 / 255), 40)
            event, rec = self.event(box, directive("Alexa", "ReportState", kitchen))
            self.assertEqual(event["header"]["name"], "StateReport")
            self.assertNotIn(ALEXA_TOKEN, json.dumps(box.log_records()), "tokens never reach the log")

    def test_accept_grant_is_answered_without_home_assistant(self):
        self.ha.stop()
        with test_bootstrap.Sandbox(self.env) as box:
            event, _ = self.event(box, directive("Alexa.Authorization", "AcceptGrant", token=None, payload={
                "grant": {"type": "OAuth2.AuthorizationCode", "code": "code"},
                "grantee": {"type": "BearerToken", "token": ALEXA_TOKEN}}))
            self.assertEqual(event["header"]["name"], "AcceptGrant.Response")
        self.ha.start()

    def test_errors_become_alexa_error_responses(self):
        with test_bootstrap.Sandbox(self.env) as box:
            event, _ = self.event(box, directive("Alexa.PowerController", "TurnOn", "light#kitchen",
                                                 token="wrong-token-MARKER"))
            self.assertEqual(event["header"]["name"], "ErrorResponse")
            self.assertEqual(event["payload"]["type"], "INVALID_AUTHORIZATION_CREDENTIAL")
            self.assertEqual(event["endpoint"]["endpointId"], "light#kitchen")
            self.assertEqual(event["header"]["correlationToken"], "corr-1")
            self.assertNotIn("MARKER", json.dumps(event) + json.dumps(box.log_records()))
            bad = directive("Alexa.PowerController", "TurnOn", "light#kitchen")
            bad["directive"]["header"]["payloadVersion"] = "2"
            event, _ = self.event(box, bad)
            self.assertEqual(event["payload"]["type"], "INVALID_DIRECTIVE")
            self.ha.stop()
            for _ in range(5):
                event, _ = self.event(box, directive("Alexa.PowerController", "TurnOn", "light#kitchen"))
                self.assertEqual(event["payload"]["type"], "ENDPOINT_UNREACHABLE", event)
            start = time.perf_counter()
            event, rec = self.event(box, directive("Alexa.PowerController", "TurnOn", "light#kitchen"))
            self.assertEqual(event["payload"]["type"], "ENDPOINT_UNREACHABLE")
            self.assertIn("circuit breaker", event["payload"]["message"])
            self.assertLess(rec["duration_ms"], 10, "an open breaker answers at once")
            self.assertLess((time.perf_counter() - start) * 1e3, 1000)
            self.ha.start()

    def test_a_slow_home_assistant_is_answered_before_the_deadline(self):
        with test_bootstrap.Sandbox(self.env) as box:
            self.ha.faults(latency_ms=3000)
            rec = box.call(directive("Alexa.PowerController", "TurnOn", "light#kitchen"), timeout_ms=1500)
            self.assertEqual(rec["outcome"], "response", "answered, not killed at the deadline: %s" % rec)
            self.assertEqual(rec["body"]["event"]["payload"]["type"], "ENDPOINT_UNREACHABLE")
            self.assertIn("deadline", rec["body"]["event"]["payload"]["message"])
            self.assertLess(rec["duration_ms"], 1500)
            self.ha.clear_faults()

    def test_the_breaker_lets_a_trial_through_after_the_cooldown(self):
        with test_bootstrap.Sandbox(self.env) as box:
            self.ha.stop()
            for _ in range(6):  # 5 failures open it; the 6th is refused by the open breaker
                event, _ = self.event(box, directive("Alexa.PowerController", "TurnOn", "light#kitchen"))
                self.assertEqual(event["payload"]["type"], "ENDPOINT_UNREACHABLE")
            self.assertIn("circuit breaker", event["payload"]["message"])
            self.ha.start()
            time.sleep(30.5)  # cooldown_seconds: 30 (spec/limits.yaml)
            event, _ = self.event(box, directive("Alexa.PowerController", "TurnOn", "light#kitchen"))
            self.assertEqual(event["header"]["name"], "Response", event)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_alexa.py BOOTSTRAP MODULE_DIR [unittest args]")
    test_bootstrap.BOOTSTRAP = os.path.abspath(sys.argv[1])
    test_bootstrap.MODULE_DIR = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
