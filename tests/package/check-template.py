#!/usr/bin/env python3
"""tests/package/check-template.py: structural check of the SAM template (template.yaml).

No SAM CLI or AWS account needed: the YAML is parsed (CloudFormation's short tags such as !Ref
and !If included) and checked for what the deployment relies on:
  - the function: runtime provided.al2023, handler bootstrap, CodeUri dist/suga-lambda.zip,
    architecture x86_64, 128 MB, 8 s, and the environment variables docs/deploy.md documents;
  - the Alexa Smart Home permission (principal alexa-connectedservices.amazon.com, event source
    token = the skill id parameter), the optional Function URL and its two permissions, the log
    group with a retention that CloudWatch accepts, a NoEcho token parameter;
  - every !Ref / !GetAtt / !Sub ${...} / condition names something the template defines;
  - when cfn-lint is installed (it is no Debian package: not required), it finds no error in
    the template (it expands the SAM transform and checks every property against AWS's schemas).
Exit status 0 when it holds, 1 with one line per problem otherwise, 77 (meson's SKIP) without
PyYAML. Usage: check-template.py [TEMPLATE]   (default: template.yaml at the repository root)
"""
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("skip: PyYAML is not installed (Debian package python3-yaml)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "template.yaml")
RETENTION = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
             2557, 2922, 3288, 3653}
ENVIRONMENT = {"HOME_ASSISTANT_URL", "HOME_ASSISTANT_TOKEN", "HOME_ASSISTANT_VERIFY_SSL",
               "LOG_LEVEL", "SUGA_GUARD_STATE_FILE", "SUGA_METRICS_NAMESPACE"}
PSEUDO = {"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId",
          "AWS::StackName", "AWS::URLSuffix", "AWS::NotificationARNs"}


class Loader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


Loader.add_multi_constructor("!", _intrinsic)

problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def walk(node, visit):
    visit(node)
    if isinstance(node, dict):
        for value in node.values():
            walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            walk(value, visit)


with open(PATH, encoding="utf-8") as f:
    template = yaml.load(f, Loader=Loader)

check(template.get("AWSTemplateFormatVersion") == "2010-09-09", "AWSTemplateFormatVersion is not 2010-09-09")
check(template.get("Transform") == "AWS::Serverless-2016-10-31", "Transform is not AWS::Serverless-2016-10-31 (SAM)")
parameters = template.get("Parameters", {})
conditions = template.get("Conditions", {})
resources = template.get("Resources", {})
outputs = template.get("Outputs", {})

functions = {k: v for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function"}
check(len(functions) == 1, f"expected one AWS::Serverless::Function, found {len(functions)}")
fn_name, fn = next(iter(functions.items())) if functions else (None, {"Properties": {}})
props = fn.get("Properties", {})
for key, want in [("Runtime", "provided.al2023"), ("Handler", "bootstrap"), ("CodeUri", "dist/suga-lambda.zip"),
                  ("Architectures", ["x86_64"]), ("MemorySize", 128), ("Timeout", 8)]:
    check(props.get(key) == want, f"function {key} is {props.get(key)!r}, want {want!r}")
variables = props.get("Environment", {}).get("Variables", {})
missing = ENVIRONMENT - set(variables)
check(not missing, f"function environment lacks {sorted(missing)}")
check(variables.get("SUGA_GUARD_STATE_FILE", "").startswith("/tmp/"), "SUGA_GUARD_STATE_FILE is not under /tmp (Lambda's only writable place)")

token = parameters.get("HomeAssistantToken", {})
check(token.get("NoEcho") is True, "parameter HomeAssistantToken is not NoEcho")

alexa = [r for r in resources.values() if r.get("Type") == "AWS::Lambda::Permission"
         and r.get("Properties", {}).get("Principal") == "alexa-connectedservices.amazon.com"]
check(len(alexa) == 1, "no AWS::Lambda::Permission for alexa-connectedservices.amazon.com (Alexa Smart Home)")
if alexa:
    p = alexa[0]["Properties"]
    check(p.get("Action") == "lambda:InvokeFunction", "the Alexa permission's Action is not lambda:InvokeFunction")
    token_ref = p.get("EventSourceToken", {})
    check(isinstance(token_ref, dict) and token_ref.get("Ref") in parameters,
          "the Alexa permission's EventSourceToken is not a !Ref to the skill id parameter")

urls = [(k, r) for k, r in resources.items() if r.get("Type") == "AWS::Lambda::Url"]
check(len(urls) == 1, "no AWS::Lambda::Url (the optional /health Function URL)")
for name, url in urls:
    check(url.get("Condition") in conditions, f"{name} has no condition: the Function URL must be optional")
    url_perms = [r.get("Properties", {}) for r in resources.values() if r.get("Type") == "AWS::Lambda::Permission"
                 and r.get("Condition") == url.get("Condition") and r.get("Properties", {}).get("Principal") == "*"]
    check(any(p.get("Action") == "lambda:InvokeFunctionUrl" and p.get("FunctionUrlAuthType") == "NONE" for p in url_perms),
          "the Function URL lacks its lambda:InvokeFunctionUrl permission (FunctionUrlAuthType NONE)")
    check(any(p.get("Action") == "lambda:InvokeFunction" and p.get("InvokedViaFunctionUrl") is True for p in url_perms),
          "the Function URL lacks its lambda:InvokeFunction permission (InvokedViaFunctionUrl true)")

groups = [r for r in resources.values() if r.get("Type") == "AWS::Logs::LogGroup"]
check(len(groups) == 1, "no AWS::Logs::LogGroup")
for group in groups:
    gp = group.get("Properties", {})
    retention = gp.get("RetentionInDays")
    if isinstance(retention, dict) and "Ref" in retention:
        param = parameters.get(retention["Ref"], {})
        check(param.get("Default") in RETENTION and set(param.get("AllowedValues", [])) <= RETENTION,
              f"log retention parameter {retention['Ref']} allows values CloudWatch refuses")
    else:
        check(retention in RETENTION, f"log retention {retention!r} is not one CloudWatch accepts")
    check("/aws/lambda/" in str(gp.get("LogGroupName")), "the log group is not /aws/lambda/<function name>")

# Every reference resolves.
names = set(parameters) | set(resources) | PSEUDO


def references(node):
    if not isinstance(node, dict):
        return
    if "Ref" in node:
        check(node["Ref"] in names, f"!Ref {node['Ref']} names nothing in the template")
    if "Fn::GetAtt" in node:
        target = node["Fn::GetAtt"][0]
        check(target in resources, f"!GetAtt {target} names no resource")
    if "Fn::Sub" in node:
        text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
        for ref in re.findall(r"\$\{([^}!]+)\}", text):
            check(ref.split(".")[0] in names, f"!Sub ${{{ref}}} names nothing in the template")
    if "Fn::If" in node:
        check(node["Fn::If"][0] in conditions, f"!If {node['Fn::If'][0]} names no condition")
    if "Condition" in node and isinstance(node["Condition"], str):
        check(node["Condition"] in conditions, f"Condition {node['Condition']} is not defined")


walk(template, references)
for name, value in parameters.items():
    default = value.get("Default")
    if default is not None and "AllowedValues" in value:
        check(default in value["AllowedValues"], f"parameter {name}: default {default!r} not in its AllowedValues")
    if default is not None and "AllowedPattern" in value:
        check(re.fullmatch(value["AllowedPattern"], str(default)) is not None,
              f"parameter {name}: default {default!r} does not match its AllowedPattern")
check(all(o.get("Value") is not None for o in outputs.values()), "an output has no Value")

linted = ""
if shutil.which("cfn-lint"):
    lint = subprocess.run(["cfn-lint", PATH], capture_output=True, text=True)
    # cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational
    if lint.returncode & 2 or lint.returncode & 1:
        problems.append("cfn-lint found errors:\n" + lint.stdout + lint.stderr)
    linted = ", cfn-lint: no error"

if problems:
    for p in problems:
        print(f"check-template: {PATH}: {p}", file=sys.stderr)
    sys.exit(1)
print(f"check-template: {os.path.relpath(PATH, ROOT)}: {len(resources)} resources, {len(parameters)} parameters, "
      f"function {fn_name} ({props.get('Runtime')}, {props.get('Architectures')}, {props.get('MemorySize')} MB, "
      f"{props.get('Timeout')} s){linted}: ok")
