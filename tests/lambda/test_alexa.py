#!/usr/bin/env python3
"""The Alexa bridge end to end: Smart Home directives and custom skill requests through the
bootstrap under the Runtime API emulator, routed by spec/routes.yaml to alexa.smart_home and
alexa.custom_skill, forwarded to the fake Home Assistant's Alexa integration and intents.

    test_alexa.py BOOTSTRAP MODULE_DIR|--packaged
"""

import json
import os
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import test_bootstrap  # noqa: E402
from alexa_schema import assert_valid  # noqa: E402
from fake_home_assistant import ALEXA_TOKEN, LONG_LIVED_TOKEN, FakeHomeAssistant  # noqa: E402

test_bootstrap.KNOWN_SECRETS.add("wrong-token-MARKER")


def directive(namespace, name, endpoint_id=None, token=ALEXA_TOKEN, payload=None, correlation="corr-1"):
    d = {"header": {"namespace": namespace, "name": name, "messageId": str(uuid.uuid4()), "payloadVersion": "3",
                    "correlationToken": correlation},
         "payload": payload if payload is not None else {}}
    if endpoint_id:
        d["endpoint"] = {"endpointId": endpoint_id, "scope": {"type": "BearerToken", "token": token}}
    elif token:
        d["payload"].setdefault("scope", {"type": "BearerToken", "token": token})
    return {"directive": d}


def skill_request(request_type, intent=None, slots=None, token=ALEXA_TOKEN, in_session=True):
    """A custom skill request as Alexa sends it (version 1.0): the token in session.user when
    in_session, else only in context.System.user (as for requests outside a session)."""
    application = {"applicationId": "amzn1.ask.skill.0f6c1f3a-suga-test"}
    user = {"userId": "amzn1.ask.account.TEST"}
    if token:
        user["accessToken"] = token
    request = {"type": request_type, "requestId": "amzn1.echo-api.request." + str(uuid.uuid4()),
               "timestamp": "2026-11-23T10:00:00Z", "locale": "en-US"}
    if intent:
        request["intent"] = {"name": intent, "confirmationStatus": "NONE",
                             "slots": {k: {"name": k, "value": v} for k, v in (slots or {}).items()}}
    if request_type == "SessionEndedRequest":
        request["reason"] = "USER_INITIATED"
    event = {"version": "1.0", "request": request,
             "context": {"System": {"application": application, "user": user}}}
    if in_session:
        event["session"] = {"new": True, "sessionId": "amzn1.echo-api.session.TEST", "application": application,
                            "user": user}
    return event


BRIDGE_WRITES = {("Alexa", "ErrorResponse"), ("Alexa.Authorization", "AcceptGrant.Response")}


def check_bridge_answer(testcase, body):
    """An answer the bridge wrote itself (not one of Home Assistant's) must be valid against the
    rules Amazon's Smart Home message schema sets (tests/fixtures/alexa/)."""
    header = body.get("event", {}).get("header", {})
    if (header.get("namespace"), header.get("name")) in BRIDGE_WRITES:
        assert_valid(testcase, body)


class WithHomeAssistant(unittest.TestCase):
    """A fake Home Assistant that knows the Alexa user's token and the long-lived one; self.env
    points the bootstrap at it (without a token of its own)."""

    def setUp(self):
        self.ha = FakeHomeAssistant(tokens=[LONG_LIVED_TOKEN, ALEXA_TOKEN])
        self.ha.__enter__()
        self.env = {"HOME_ASSISTANT_URL": self.ha.url}

    def tearDown(self):
        self.ha.__exit__(None, None, None)


class Alexa(WithHomeAssistant):
    def event(self, box, d):
        rec = box.call(d, timeout_ms=8000)
        self.assertEqual(rec["outcome"], "response", rec)
        check_bridge_answer(self, rec["body"])
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


class CustomSkill(WithHomeAssistant):
    def answer(self, box, event):
        rec = box.call(event, timeout_ms=8000)
        self.assertEqual(rec["outcome"], "response", rec)
        self.assertEqual(rec["body"]["version"], "1.0", rec)
        return rec["body"]["response"]

    def test_intents_reach_home_assistant(self):
        self.ha.set_state("light.kitchen", "off")
        with test_bootstrap.Sandbox(self.env) as box:
            response = self.answer(box, skill_request("IntentRequest", "TurnOnIntent", {"Device": "kitchen light"}))
            self.assertEqual(response["outputSpeech"]["text"], "Turned on kitchen light.")
            self.assertEqual(self.ha.state("light.kitchen")["state"], "on")
            # outside a session the token is in context.System.user
            response = self.answer(box, skill_request("IntentRequest", "GoodNightIntent", in_session=False))
            self.assertEqual(response["outputSpeech"]["text"], "Good night. Everything is off.")
            response = self.answer(box, skill_request("IntentRequest", "NoSuchIntent"))
            self.assertIn("not yet configured", response["outputSpeech"]["text"])
            self.answer(box, skill_request("SessionEndedRequest"))
            records = box.log_records()
            self.assertNotIn(ALEXA_TOKEN, json.dumps(records), "tokens never reach the log")
            ops = [r.get("operation") for r in records if r.get("message") == "request"]
            self.assertIn("alexa.custom_skill", ops, records)

    def test_failures_are_spoken(self):
        with test_bootstrap.Sandbox(self.env) as box:
            response = self.answer(box, skill_request("LaunchRequest", token="wrong-token-MARKER"))
            self.assertIn("link your account again", response["outputSpeech"]["text"])
            self.assertEqual(response["card"], {"type": "LinkAccount"})
            response = self.answer(box, skill_request("LaunchRequest", token=None))
            self.assertIn("please link your Home Assistant account", response["outputSpeech"]["text"])
            self.assertEqual(response["card"], {"type": "LinkAccount"})
            self.ha.stop()
            response = self.answer(box, skill_request("IntentRequest", "TemperatureIntent"))
            self.assertIn("not reachable", response["outputSpeech"]["text"])
            self.assertTrue(response["shouldEndSession"])
            self.assertNotIn("card", response)
            # Alexa accepts no speech in answer to the end of a session
            self.assertEqual(self.answer(box, skill_request("SessionEndedRequest")), {})
            self.ha.start()
            warnings = [r["message"] for r in box.log_records() if r.get("level") == "warning"]
            self.assertTrue(any("refused the token" in m for m in warnings), warnings)
            self.assertTrue(any("no access token" in m for m in warnings), warnings)
            self.assertNotIn("MARKER", json.dumps(box.log_records()))

    def test_the_long_lived_token_is_a_fallback(self):
        with test_bootstrap.Sandbox(dict(self.env, LONG_LIVED_ACCESS_TOKEN=LONG_LIVED_TOKEN)) as box:
            response = self.answer(box, skill_request("IntentRequest", "TemperatureIntent", token=None))
            self.assertIn("degrees outside", response["outputSpeech"]["text"])

    def test_malformed_requests_are_spoken_and_never_forwarded(self):
        with test_bootstrap.Sandbox(self.env) as box:
            event = skill_request("IntentRequest", "TemperatureIntent")
            del event["request"]["requestId"]
            response = self.answer(box, event)
            self.assertIn("something went wrong", response["outputSpeech"]["text"])
            self.assertEqual(self.ha.requests(path="/api/alexa"), [], "nothing malformed is forwarded")
            failed = [r for r in box.log_records() if r.get("message") == "request failed"]
            self.assertIn("request.requestId must be a string", failed[-1]["error"])


PLAIN_TOKEN = "plain-token-0123456789-MARKER"  # not shaped like a secret: only known by value
test_bootstrap.KNOWN_SECRETS.add(PLAIN_TOKEN)


class SecretsNeverLeave(unittest.TestCase):
    """The reproductions of the hardening review: each must give the safe result. (Every Sandbox
    also checks on exit that no secret it was given appears in any output.)"""

    def setUp(self):
        self.ha = FakeHomeAssistant(tokens=[PLAIN_TOKEN, ALEXA_TOKEN]).__enter__()
        self.env = {"HOME_ASSISTANT_URL": self.ha.url, "HOME_ASSISTANT_TOKEN": PLAIN_TOKEN}

    def tearDown(self):
        self.ha.__exit__(None, None, None)

    def test_config_get_never_returns_a_secret(self):
        with test_bootstrap.Sandbox(dict(self.env, LONG_LIVED_ACCESS_TOKEN=PLAIN_TOKEN)) as box:
            for name in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "HOME_ASSISTANT_TOKEN",
                         "LONG_LIVED_ACCESS_TOKEN"]:
                rec = box.call({"op": "config.get", "args": {"name": name}})
                self.assertEqual(rec["body"], {"name": name, "hidden": True, "set": True, "source": "environment"})

    def test_home_assistant_quoting_the_token_in_an_error_body(self):
        body = json.dumps({"message": f"proxy: Authorization: Bearer {PLAIN_TOKEN} refused; token={PLAIN_TOKEN}; "
                                      f"raw {PLAIN_TOKEN}"})
        self.ha.faults(error=500, content_type="application/json", body=body)
        with test_bootstrap.Sandbox(self.env) as box:
            rec = box.call({"op": "homeassistant.get_state", "args": {"entity_id": "light.kitchen"}}, timeout_ms=8000)
            self.assertEqual(rec["body"]["errorType"], "Unavailable", rec)
            self.assertIn("Home Assistant answered 500", rec["body"]["errorMessage"])
            self.assertIn("raw ***", rec["body"]["errorMessage"])
            self.assertNotIn(PLAIN_TOKEN[:12], rec["body"]["errorMessage"])
            body = box.call(directive("Alexa.PowerController", "TurnOn", "light#kitchen", token=PLAIN_TOKEN),
                            timeout_ms=8000)["body"]
            assert_valid(self, body)
            event = body["event"]
            self.assertEqual(event["payload"]["type"], "ENDPOINT_UNREACHABLE")
            self.assertIn("raw ***", event["payload"]["message"])
            rec = box.call(skill_request("IntentRequest", "TemperatureIntent", token=PLAIN_TOKEN), timeout_ms=8000)
            self.assertIn("not reachable", rec["body"]["response"]["outputSpeech"]["text"])
            warnings = [r["message"] for r in box.log_records() if r["level"] in ("warning", "error")]
            self.assertTrue(any("raw ***" in m for m in warnings), warnings)

    def test_a_rejected_url_is_quoted_without_userinfo_or_query(self):
        for url, shown in [("https://admin:pw-0123456789@ha.example.com", "https://***@ha.example.com"),
                           ("https://ha.example.com/?access_token=0123456789abcdef", "https://ha.example.com/?***")]:
            with test_bootstrap.Sandbox({"HOME_ASSISTANT_URL": url}) as box:
                self.assertEqual(box.runtime.wait(10), 1)
                message = box.emulator.init_error()["body"]["errorMessage"]
                self.assertIn(shown, message)
                self.assertNotIn("0123456789", message + json.dumps(box.log_records()))


def guard_state_at(percent_of_requests):
    """A guard state file's text for this month with the requests at that share of the free tier."""
    month = time.strftime("%Y-%m", time.gmtime())
    return json.dumps({"format": "suga-guard-state", "version": 1, "month": month,
                       "requests": int(1_000_000 * percent_of_requests / 100), "mb_ms": 0, "shed": 0, "blocked": 0})


class AlwaysAnAlexaAnswer(WithHomeAssistant):
    """Whatever stops a directive or a custom skill request, Alexa gets an Alexa answer (an
    ErrorResponse, or speech) and never a Lambda function error."""

    def error_response(self, box, event):
        rec = box.call(event, timeout_ms=8000)
        self.assertEqual(rec["outcome"], "response", rec)
        answer = rec["body"]["event"]
        self.assertEqual(answer["header"]["name"], "ErrorResponse", answer)
        assert_valid(self, rec["body"])
        self.assertEqual(answer["header"]["namespace"], "Alexa")
        self.assertEqual(answer["header"]["payloadVersion"], "3")
        uuid.UUID(answer["header"]["messageId"])  # a fresh one
        return answer

    def test_a_directive_without_a_usable_header_is_an_invalid_directive(self):
        with test_bootstrap.Sandbox(self.env) as box:
            for event in [{"directive": {}}, {"directive": "TurnOn"}, {"directive": None}, {"directive": []},
                          {"directive": {"header": "x"}}, {"directive": {"header": {"name": "TurnOn"}}},
                          {"directive": {"header": {"namespace": 7, "name": "TurnOn"}}}]:
                answer = self.error_response(box, event)
                self.assertEqual(answer["payload"]["type"], "INVALID_DIRECTIVE", event)
                self.assertNotIn("correlationToken", answer["header"])
            kept = {"directive": {"header": {"name": "TurnOn", "messageId": "m-2", "correlationToken": "corr-9"},
                                  "endpoint": {"endpointId": "light#kitchen"}}}
            answer = self.error_response(box, kept)
            self.assertEqual(answer["payload"]["type"], "INVALID_DIRECTIVE")
            self.assertEqual(answer["header"]["correlationToken"], "corr-9", "kept when present")
            self.assertEqual(answer["endpoint"]["endpointId"], "light#kitchen")
            # what Alexa never sends is not copied into the answer, which would make it invalid
            for endpoint_id in ["", "light.kitchen", "küche", "x" * 257, 7]:
                odd = directive("Alexa.PowerController", "TurnOn", "light#kitchen", correlation="")
                odd["directive"]["header"]["payloadVersion"] = "2"  # refused by the bridge itself
                odd["directive"]["endpoint"]["endpointId"] = endpoint_id
                answer = self.error_response(box, odd)
                self.assertNotIn("endpoint", answer, endpoint_id)
                self.assertNotIn("correlationToken", answer["header"])
            self.assertEqual(self.ha.requests(path="/api/alexa/smart_home"), [], "nothing malformed is forwarded")

    def test_the_guard_refusing_is_rate_limit_exceeded_or_spoken(self):
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "guard.json")
            with open(state, "w") as f:
                f.write(guard_state_at(96))  # past block_percent (95)
            with test_bootstrap.Sandbox(dict(self.env, SUGA_GUARD_STATE_FILE=state)) as box:
                answer = self.error_response(box, directive("Alexa.PowerController", "TurnOn", "light#kitchen"))
                self.assertEqual(answer["payload"]["type"], "RATE_LIMIT_EXCEEDED")
                self.assertEqual(answer["header"]["correlationToken"], "corr-1")
                self.assertEqual(answer["endpoint"]["endpointId"], "light#kitchen")
                rec = box.call(skill_request("IntentRequest", "TemperatureIntent"))
                self.assertEqual(rec["outcome"], "response", rec)
                self.assertIn("used up its budget for the month", rec["body"]["response"]["outputSpeech"]["text"])
                rec = box.call(skill_request("SessionEndedRequest"))
                self.assertEqual(rec["body"], {"version": "1.0", "response": {}})
                rec = box.call(test_bootstrap.Routing.http_event("GET", "/health"))
                self.assertEqual(rec["body"]["statusCode"], 429, "HTTP events keep 429")
                rec = box.call({"op": "debug.health"})
                self.assertEqual(rec["body"]["errorType"], "BudgetExhausted", "a direct request stays a function error")
                self.assertEqual(self.ha.requests(), [], "nothing reached Home Assistant")


if __name__ == "__main__":
    test_bootstrap.main()
