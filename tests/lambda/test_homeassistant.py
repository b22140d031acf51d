#!/usr/bin/env python3
"""The homeassistant interface end to end: the bootstrap under the Runtime API emulator, talking
to the fake Home Assistant (tests/fixtures/fake_home_assistant.py) through http_client.

    test_homeassistant.py BOOTSTRAP MODULE_DIR|--packaged
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import test_bootstrap  # noqa: E402
from fake_home_assistant import ALEXA_TOKEN, LONG_LIVED_TOKEN, FakeHomeAssistant  # noqa: E402


class HomeAssistant(unittest.TestCase):
    def setUp(self):
        self.ha = FakeHomeAssistant(tokens=[LONG_LIVED_TOKEN, ALEXA_TOKEN])
        self.ha.__enter__()
        self.env = {"HOME_ASSISTANT_URL": self.ha.url, "HOME_ASSISTANT_TOKEN": LONG_LIVED_TOKEN}

    def tearDown(self):
        self.ha.__exit__(None, None, None)

    def op(self, box, name, args=None):
        rec = box.call({"op": name, "args": args or {}}, timeout_ms=8000)
        return rec

    def test_states_services_and_the_state_cache(self):
        with test_bootstrap.Sandbox(self.env) as box:
            rec = self.op(box, "homeassistant.health")
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertEqual(rec["body"]["message"], "API running.")
            kitchen = self.op(box, "homeassistant.get_state", {"entity_id": "light.kitchen"})["body"]
            self.assertEqual(kitchen["state"], "on")
            lights = self.op(box, "homeassistant.list_states", {"domain": "light"})["body"]
            self.assertEqual(lights["count"], len(self.ha.states("light")))
            rec = self.op(box, "homeassistant.call_service",
                          {"domain": "light", "service": "turn_off", "entity_id": "light.kitchen"})
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertEqual(self.ha.state("light.kitchen")["state"], "off")
            # the cached "on" was dropped by the call: the next read is fresh
            self.assertEqual(self.op(box, "homeassistant.get_state", {"entity_id": "light.kitchen"})["body"]["state"],
                             "off")
            rec = box.call({"fusion": "set_and_read", "args": {"domain": "light", "service": "turn_on",
                                                               "entity_id": "light.living_room",
                                                               "data": {"brightness_pct": 50}}})
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertEqual(rec["body"]["state"], "on")
            self.assertEqual(box.emulator.protocol_errors(), [])

    def test_wrong_token_and_unknown_entity(self):
        with test_bootstrap.Sandbox(dict(self.env, HOME_ASSISTANT_TOKEN="not-a-valid-token-MARKER")) as box:
            rec = self.op(box, "homeassistant.get_state", {"entity_id": "light.kitchen"})
            self.assertEqual(rec["outcome"], "error", rec)
            self.assertEqual(rec["body"]["errorType"], "InvalidArgument")
            self.assertIn("refused the token (401)", rec["body"]["errorMessage"])
            self.assertNotIn("MARKER", str(box.log_records()))
            rec = self.op(box, "homeassistant.get_state", {"entity_id": "light.kitchen", "access_token": ALEXA_TOKEN})
            self.assertEqual(rec["outcome"], "response", rec)
            rec = self.op(box, "homeassistant.get_state", {"entity_id": "light.nowhere", "access_token": ALEXA_TOKEN})
            self.assertEqual(rec["body"]["errorType"], "NotFound")

    def test_a_batch_of_service_calls_and_assist(self):
        with test_bootstrap.Sandbox(self.env) as box:
            rec = self.op(box, "homeassistant.call_services", {"calls": [
                {"domain": "light", "service": "turn_on", "entity_id": "light.hall"},
                {"domain": "switch", "service": "turn_on", "entity_id": "switch.coffee_maker"},
                {"domain": "light", "service": "no_such_service", "entity_id": "light.hall"}]})
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertEqual((rec["body"]["succeeded"], rec["body"]["failed"]), (2, 1))
            self.assertEqual(self.ha.state("switch.coffee_maker")["state"], "on")
            rec = self.op(box, "homeassistant.conversation", {"text": "turn on the kitchen light"})
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertIn("response", rec["body"])

    def test_home_assistant_down_opens_the_breaker_until_it_is_reset(self):
        with test_bootstrap.Sandbox(self.env) as box:
            self.assertEqual(self.op(box, "homeassistant.health")["outcome"], "response")
            self.ha.stop()
            for _ in range(5):  # failure_threshold 5 (spec/limits.yaml)
                rec = self.op(box, "homeassistant.config")
                self.assertEqual(rec["body"]["errorType"], "Unavailable", rec)
            start = time.perf_counter()
            rec = self.op(box, "homeassistant.config")
            elapsed_ms = (time.perf_counter() - start) * 1e3
            self.assertIn("circuit breaker 'homeassistant' is open", rec["body"]["errorMessage"])
            self.assertLess(rec["duration_ms"], 10, "an open breaker answers at once")
            self.assertLess(elapsed_ms, 1000)
            self.ha.start()
            # still open (the cooldown is 30 s) until circuit_breaker.reset closes it
            self.assertEqual(self.op(box, "homeassistant.config")["body"]["errorType"], "Unavailable")
            self.assertEqual(self.op(box, "circuit_breaker.reset", {"name": "homeassistant"})["outcome"], "response")
            self.assertEqual(self.op(box, "homeassistant.config")["outcome"], "response")


if __name__ == "__main__":
    test_bootstrap.main()
