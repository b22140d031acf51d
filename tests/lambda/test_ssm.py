#!/usr/bin/env python3
"""Settings from Parameter Store end to end: the bootstrap under the Runtime API emulator reads
them through the fake Parameters and Secrets extension (tests/fixtures/fake_ssm_extension.py)
and uses them against the fake Home Assistant (tests/fixtures/fake_home_assistant.py).

    test_ssm.py BOOTSTRAP MODULE_DIR|--packaged
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import test_bootstrap  # noqa: E402
from fake_home_assistant import LONG_LIVED_TOKEN, FakeHomeAssistant  # noqa: E402
from fake_ssm_extension import GET_PATH, FakeSsmExtension  # noqa: E402

PREFIX = "/suga/prod"
URL_PARAM = PREFIX + "/HOME_ASSISTANT_URL"
TOKEN_PARAM = PREFIX + "/HOME_ASSISTANT_TOKEN"
NAMES = ["HOME_ASSISTANT_URL", "HOME_ASSISTANT_TOKEN", "HOME_ASSISTANT_VERIFY_SSL", "DEBUG_MODE", "LOG_LEVEL"]
NOBODY_LISTENS = "http://127.0.0.1:9"  # the discard port: connection refused


def raw_log(box):
    box.log.seek(0)
    return box.log.read().decode(errors="replace")


class ParameterStore(unittest.TestCase):
    def setUp(self):
        self.ha = FakeHomeAssistant(tokens=[LONG_LIVED_TOKEN]).__enter__()
        self.ssm = FakeSsmExtension().__enter__()

    def tearDown(self):
        self.ssm.__exit__(None, None, None)
        self.ha.__exit__(None, None, None)

    def env(self, ssm=None, **extra):
        ssm = ssm or self.ssm
        env = {"SUGA_SSM_PARAMETER_PREFIX": PREFIX + "/",  # one trailing '/' is dropped
               "AWS_SESSION_TOKEN": ssm.session_token,
               "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(ssm.port)}
        env.update(extra)
        return env

    def put_home_assistant(self, ssm=None, url=None, token=LONG_LIVED_TOKEN):
        ssm = ssm or self.ssm
        ssm.put(URL_PARAM, url or self.ha.url, type="String")
        ssm.put(TOKEN_PARAM, token)  # SecureString

    @staticmethod
    def op(box, name, args=None):
        return box.call({"op": name, "args": args or {}}, timeout_ms=8000)

    def assert_response(self, rec):
        self.assertEqual(rec["outcome"], "response", rec)
        return rec["body"]

    def assert_invalid_configuration(self, rec, fragment):
        self.assertEqual(rec["outcome"], "error", rec)
        self.assertEqual(rec["body"]["errorType"], "InvalidConfiguration", rec)
        self.assertIn(fragment, rec["body"]["errorMessage"])
        return rec["body"]["errorMessage"]

    def test_settings_come_from_parameter_store_with_a_securestring_token(self):
        self.put_home_assistant()
        with test_bootstrap.Sandbox(self.env()) as box:
            self.assertEqual(self.assert_response(self.op(box, "homeassistant.health"))["message"], "API running.")
            settings = self.assert_response(self.op(box, "config.settings"))
            ha = settings["home_assistant"]
            self.assertEqual(ha["url"], self.ha.url)
            self.assertEqual(ha["url_source"], "parameter_store:" + URL_PARAM)
            self.assertTrue(ha["token_set"])
            self.assertEqual(ha["token_source"], "parameter_store:" + TOKEN_PARAM)
            self.assertEqual(settings["version"], 1, "the first fetch completes the start-up settings")
            store = settings["parameter_store"]
            self.assertEqual((store["prefix"], store["ttl_s"], store["port"]), (PREFIX + "/", 300, self.ssm.port))
            self.assertEqual((store["fetches"], store["failures"], store["last_error"]), (1, 0, None))
            self.assertIsNotNone(store["fetched_at"])
            self.assertEqual(store["parameters"],
                             [{"name": f"{PREFIX}/{name}", "found": name in ("HOME_ASSISTANT_URL",
                                                                             "HOME_ASSISTANT_TOKEN"),
                               "version": 1 if name in ("HOME_ASSISTANT_URL", "HOME_ASSISTANT_TOKEN") else None}
                              for name in NAMES])
            diagnostics = self.assert_response(self.op(box, "debug.diagnostics"))["settings"]
            self.assertEqual(diagnostics["version"], 1)
            self.assertEqual(diagnostics["parameter_store"]["parameters"], store["parameters"])
            requests = self.ssm.requests(path=GET_PATH)
            self.assertEqual(len(requests), len(NAMES), "one fetch of each parameter, then the TTL")
            self.assertEqual(requests[0]["query"], "name=%2Fsuga%2Fprod%2FHOME_ASSISTANT_URL&withDecryption=true")
            self.assertTrue(all(r["query"].endswith("&withDecryption=true") for r in requests), requests)
            log = raw_log(box)
            self.assertNotIn(LONG_LIVED_TOKEN, log, "the SecureString value never reaches the log")
            self.assertNotIn(self.ssm.session_token, log)
            self.assertNotIn(LONG_LIVED_TOKEN, json.dumps(settings) + json.dumps(diagnostics))

    def test_parameter_store_wins_over_the_environment_and_an_override_over_both(self):
        with FakeSsmExtension(not_found_status=400) as ssm:  # extensions passing SSM's 400 through
            ssm.put(URL_PARAM, self.ha.url, type="String")
            ssm.put(PREFIX + "/LOG_LEVEL", "debug", type="String")
            env = self.env(ssm, HOME_ASSISTANT_URL=NOBODY_LISTENS, HOME_ASSISTANT_TOKEN=LONG_LIVED_TOKEN)
            with test_bootstrap.Sandbox(env) as box:
                self.assert_response(self.op(box, "homeassistant.health"))
                settings = self.assert_response(self.op(box, "config.settings"))
                self.assertEqual(settings["home_assistant"]["url_source"], "parameter_store:" + URL_PARAM)
                self.assertEqual(settings["home_assistant"]["token_source"], "HOME_ASSISTANT_TOKEN")
                self.assertEqual(settings["home_assistant"]["verify_ssl_source"], "default")
                self.assertEqual((settings["log_level"], settings["log_level_source"]),
                                 ("debug", f"parameter_store:{PREFIX}/LOG_LEVEL"))
                self.assertTrue(any(r["level"] == "debug" for r in box.log_records()),
                                "LOG_LEVEL from Parameter Store applies to the log")
                self.assert_response(self.op(box, "config.set", {"name": "HOME_ASSISTANT_URL",
                                                                 "value": NOBODY_LISTENS}))
                reloaded = self.assert_response(self.op(box, "config.reload"))
                self.assertEqual(reloaded["home_assistant"]["url_source"], "HOME_ASSISTANT_URL")
                self.assertEqual((reloaded["changed"], reloaded["version"]), (True, 2))
                self.assertEqual(self.op(box, "homeassistant.health")["body"]["errorType"], "Unavailable")

    def test_a_new_version_is_used_after_reload_and_at_once_with_ttl_0(self):
        self.put_home_assistant()
        with test_bootstrap.Sandbox(self.env()) as box:
            self.assert_response(self.op(box, "homeassistant.health"))
            self.assertEqual(self.ssm.put(TOKEN_PARAM, "revoked-token-MARKER"), 2)
            self.assert_response(self.op(box, "homeassistant.health"))  # within the TTL: the old token
            reloaded = self.assert_response(self.op(box, "config.reload"))
            self.assertEqual((reloaded["changed"], reloaded["version"]), (True, 2))
            self.assertEqual(reloaded["parameter_store"]["parameters"][1], {"name": TOKEN_PARAM, "found": True,
                                                                            "version": 2})
            rec = self.op(box, "homeassistant.health")
            self.assertIn("refused the token (401)", rec["body"]["errorMessage"])
            self.assertNotIn("MARKER", raw_log(box))
        self.ssm.put(TOKEN_PARAM, LONG_LIVED_TOKEN)
        with test_bootstrap.Sandbox(self.env(SUGA_SSM_TTL_SECONDS="0")) as box:
            self.assert_response(self.op(box, "homeassistant.health"))
            self.ssm.put(URL_PARAM, NOBODY_LISTENS, type="String")
            self.assertEqual(self.op(box, "homeassistant.health")["body"]["errorType"], "Unavailable",
                             "TTL 0: the next invocation fetches the new URL")
            settings = self.assert_response(self.op(box, "config.settings"))
            self.assertEqual((settings["home_assistant"]["url"], settings["version"]), (NOBODY_LISTENS, 2))
            self.assertEqual(settings["parameter_store"]["fetches"], 3)

    def test_a_refused_session_token_fails_the_invocation_not_the_runtime(self):
        self.put_home_assistant()
        with test_bootstrap.Sandbox(self.env(AWS_SESSION_TOKEN="wrong-session-MARKER")) as box:
            for _ in range(2):  # every invocation tries again
                message = self.assert_invalid_configuration(self.op(box, "debug.health"),
                                                            "extension refused the session token (403)")
                self.assertIn(URL_PARAM, message)
                self.assertNotIn("MARKER", message)
            self.assertEqual(len(self.ssm.requests(path=GET_PATH)), 2)
            self.assertIsNone(box.emulator.init_error(), "not an init error: INIT may not call the extension")
            self.assertTrue(box.runtime.alive())
            self.assertNotIn("MARKER", raw_log(box))
            # each refusal is one error record naming the lifecycle hook that refused it
            refusals = [r for r in box.log_records() if r.get("hook") == "config.refresh"]
            self.assertEqual(len(refusals), 2, box.log_records())
            for r in refusals:
                self.assertEqual((r["level"], r["error_type"]), ("error", "InvalidConfiguration"), r)
                self.assertIn("extension refused the session token (403)", r["message"])
        self.ssm.stop()  # no extension layer: nothing listens on the port
        with test_bootstrap.Sandbox(self.env()) as box:
            self.assert_invalid_configuration(self.op(box, "debug.health"), "is its layer added to the function?")

    def test_a_failed_first_fetch_is_answered_in_the_events_own_shape(self):
        """Until the deployment's settings are in, nothing runs, but Alexa still gets an Alexa
        answer and an HTTP caller an HTTP one; only a direct request gets the function error."""
        from alexa_schema import assert_valid  # noqa: E402
        from test_alexa import directive, skill_request  # noqa: E402 (a sibling suite's builders)
        self.ssm.stop()  # no extension layer: nothing listens on the port
        with test_bootstrap.Sandbox(self.env()) as box:
            rec = box.call(directive("Alexa.PowerController", "TurnOn", "light#kitchen"), timeout_ms=8000)
            self.assertEqual(rec["outcome"], "response", rec)
            assert_valid(self, rec["body"])
            answer = rec["body"]["event"]
            self.assertEqual((answer["header"]["name"], answer["payload"]["type"]),
                             ("ErrorResponse", "ENDPOINT_UNREACHABLE"))
            self.assertEqual(answer["header"]["correlationToken"], "corr-1")
            self.assertEqual(answer["endpoint"]["endpointId"], "light#kitchen")
            self.assertIn("is its layer added to the function?", answer["payload"]["message"])
            rec = box.call(skill_request("IntentRequest", "TemperatureIntent"), timeout_ms=8000)
            self.assertIn("not reachable", rec["body"]["response"]["outputSpeech"]["text"])
            rec = box.call(test_bootstrap.Routing.http_event("GET", "/health"), timeout_ms=8000)
            self.assertEqual(rec["body"]["statusCode"], 503)
            self.assertEqual(json.loads(rec["body"]["body"])["error"]["status"], "unavailable")
            self.assert_invalid_configuration(self.op(box, "debug.health"), "is its layer added to the function?")
            self.assertEqual(self.ha.requests(), [])

    def test_an_invalid_value_names_the_parameter_until_it_is_fixed(self):
        self.put_home_assistant(url="ftp://x")
        with test_bootstrap.Sandbox(self.env()) as box:
            self.assertEqual(self.assert_invalid_configuration(self.op(box, "homeassistant.health"), URL_PARAM),
                             f'Parameter Store parameter {URL_PARAM} must start with http:// or https://, '
                             f'got "ftp://x"')
            self.put_home_assistant(token="two words-MARKER")
            message = self.assert_invalid_configuration(self.op(box, "homeassistant.health"), TOKEN_PARAM)
            self.assertNotIn("MARKER", message)
            self.ssm.put(TOKEN_PARAM, LONG_LIVED_TOKEN)
            self.assert_response(self.op(box, "homeassistant.health"))
            settings = self.assert_response(self.op(box, "config.settings"))
            self.assertEqual((settings["version"], settings["parameter_store"]["failures"]), (1, 2))
            self.assertNotIn("MARKER", raw_log(box))

    def test_a_later_refresh_failure_keeps_the_settings_in_force(self):
        self.put_home_assistant()
        with test_bootstrap.Sandbox(self.env(SUGA_SSM_TTL_SECONDS="0")) as box:
            self.assert_response(self.op(box, "homeassistant.health"))
            self.ssm.faults(error=500, path=GET_PATH)
            self.assert_response(self.op(box, "homeassistant.health"))
            warnings = [r for r in box.log_records() if r["level"] == "warning"
                        and r["message"].startswith("Parameter Store refresh failed, the settings in force stay")]
            self.assertEqual(len(warnings), 1, box.log_records())
            self.assertIn("answered 500", warnings[0]["message"])
            self.assertEqual(self.op(box, "config.reload")["body"]["errorType"], "Unavailable")
            store = self.assert_response(self.op(box, "config.settings"))["parameter_store"]
            self.assertIn(f"answered 500 reading {URL_PARAM}", store["last_error"])
            self.assertGreaterEqual(store["failures"], 3)
            self.ssm.clear_faults()
            settings = self.assert_response(self.op(box, "config.settings"))
            self.assertEqual((settings["version"], settings["parameter_store"]["last_error"]), (1, None))


class Configuration(unittest.TestCase):
    def test_bad_ttl_and_port_are_init_errors(self):
        for name, value in [("SUGA_SSM_TTL_SECONDS", "soon"), ("SUGA_SSM_TTL_SECONDS", "86401"),
                            ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "70000")]:
            with test_bootstrap.Sandbox({"SUGA_SSM_PARAMETER_PREFIX": PREFIX, name: value}) as box:
                self.assertEqual(box.runtime.wait(10), 1)
                err = box.emulator.init_error()
                self.assertIsNotNone(err, f"{name}={value}")
                self.assertEqual(err["body"]["errorType"], "Runtime.InvalidConfiguration")
                self.assertIn(name, err["body"]["errorMessage"])

    def test_without_a_prefix_nothing_is_fetched_and_libcurl_stays_unloaded(self):
        with FakeSsmExtension() as ssm, test_bootstrap.Sandbox(
                {"AWS_SESSION_TOKEN": ssm.session_token, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(ssm.port)}) as box:
            rec = box.call({"op": "config.settings"})
            self.assertEqual(rec["outcome"], "response", rec)
            self.assertIsNone(rec["body"]["parameter_store"])
            diagnostics = box.call({"op": "debug.diagnostics"})["body"]
            http_client = [m for m in diagnostics["modules"] if m["name"] == "http_client"][0]
            self.assertFalse(http_client["loaded"])
            self.assertIsNone(diagnostics["settings"]["parameter_store"])
            self.assertEqual(ssm.requests(path=GET_PATH), [])


if __name__ == "__main__":
    test_bootstrap.main()
