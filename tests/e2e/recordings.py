"""The recorded Xinference responses in tests/fixtures/recordings/ and how to replay them.

A recording is one request with its setup requests and the shape of the response (the notation
is in tests/fixtures/recordings/README.md). recordings/*.json were transcribed from the research
notes; recordings/real/*.json were recorded from a real Xinference 0.11.3 by
tests/xinference/recorder.py. The fixture's tests replay all of them against the test fixture,
and the real tier replays the real ones against real Xinference, so both stay on one contract.
"""

import glob
import json
import os
import re

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "recordings")
TRANSCRIBED = sorted(glob.glob(os.path.join(DIR, "*.json")))
REAL = sorted(glob.glob(os.path.join(DIR, "real", "*.json")))
ALL = TRANSCRIBED + REAL
REAL_SOURCE = "recorded from a real Xinference"
# Stands for the directory of a custom model's weights, which differs between machines.
WEIGHTS = "${MINILM_PATH}"


def load(path):
    with open(path, encoding="utf-8") as recording:
        return json.load(recording)


def substitute(value, weights):
    return json.loads(json.dumps(value).replace(WEIGHTS, weights))


def replay(recording, send, weights):
    """Sends the recording's setup and request through send(method, path, body), which returns
    a response with .status, .headers, .json() and .text, and returns the mismatches."""
    for step in substitute(recording.get("setup", []), weights):
        response = send(step["method"], step["path"], step["body"])
        if response.status != step.get("status", 200):
            return [f"setup {step['method']} {step['path']}: HTTP {response.status} {response.text[:300]}"]
    request = substitute(recording["request"], weights)
    response = send(request["method"], request["path"], request["body"])
    expected = substitute(recording["response"], weights)
    if response.status != expected["status"]:
        return [f"expected HTTP {expected['status']}, got {response.status}: {response.text[:300]}"]
    if "text_contains" in expected:
        return [f"missing {needle!r}" for needle in expected["text_contains"] if needle not in response.text]
    if not response.headers.get("content-type", "").startswith("application/json"):
        return [f"expected JSON, got {response.headers.get('content-type')}"]
    return shape_mismatches(response.json(), expected["body"])


TYPE_CHECKS = {
    "<string>": lambda v: isinstance(v, str),
    "<int>": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "<float>": lambda v: isinstance(v, float),
    "<number>": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "<bool>": lambda v: isinstance(v, bool),
    "<null>": lambda v: v is None,
    "<list>": lambda v: isinstance(v, list),
    "<object>": lambda v: isinstance(v, dict),
    "<any>": lambda v: True,
}
CONTAINS_PREFIX = "<contains:"
MATCHES_PREFIX = "<matches:"
LIST_MARKERS = ("<list of>", "<non-empty list of>")
OTHER_KEYS = "<*>"


def shape_mismatches(actual, shape, where="$"):
    """Return one message per place where actual does not match the recorded shape."""
    if isinstance(shape, str) and shape in TYPE_CHECKS:
        ok = TYPE_CHECKS[shape](actual)
        return [] if ok else [f"{where}: expected {shape}, got {actual!r}"]
    if isinstance(shape, str) and shape.startswith(CONTAINS_PREFIX):
        needle = shape[len(CONTAINS_PREFIX):-1]
        ok = isinstance(actual, str) and needle in actual
        return [] if ok else [f"{where}: expected a string containing {needle!r}, got {actual!r}"]
    if isinstance(shape, str) and shape.startswith(MATCHES_PREFIX):
        pattern = shape[len(MATCHES_PREFIX):-1]
        ok = isinstance(actual, str) and re.match(pattern, actual) is not None
        return [] if ok else [f"{where}: expected a string matching {pattern!r}, got {actual!r}"]
    if isinstance(shape, dict) and len(shape) == 1 and next(iter(shape)) in LIST_MARKERS:
        return list_mismatches(actual, shape, where)
    if isinstance(shape, dict):
        return object_mismatches(actual, shape, where)
    if isinstance(shape, list):
        return positional_mismatches(actual, shape, where)
    ok = actual == shape and type(actual) is type(shape)
    return [] if ok else [f"{where}: expected {shape!r}, got {actual!r}"]


def list_mismatches(actual, shape, where):
    marker, item_shape = next(iter(shape.items()))
    if not isinstance(actual, list):
        return [f"{where}: expected a list, got {actual!r}"]
    if marker == "<non-empty list of>" and not actual:
        return [f"{where}: expected a non-empty list, got []"]
    errors = []
    for index, item in enumerate(actual):
        errors += shape_mismatches(item, item_shape, f"{where}[{index}]")
    return errors


def object_mismatches(actual, shape, where):
    if not isinstance(actual, dict):
        return [f"{where}: expected an object, got {actual!r}"]
    named = {key: value for key, value in shape.items() if key != OTHER_KEYS}
    errors = [f"{where}: missing key {key!r}" for key in named if key not in actual]
    for key, value in actual.items():
        if key in named:
            errors += shape_mismatches(value, named[key], f"{where}.{key}")
        elif OTHER_KEYS in shape:
            errors += shape_mismatches(value, shape[OTHER_KEYS], f"{where}.{key}")
        else:
            errors.append(f"{where}: unexpected key {key!r}")
    return errors


def positional_mismatches(actual, shape, where):
    if not isinstance(actual, list) or len(actual) != len(shape):
        return [f"{where}: expected a list of {len(shape)} items, got {actual!r}"]
    errors = []
    for index, (item, item_shape) in enumerate(zip(actual, shape)):
        errors += shape_mismatches(item, item_shape, f"{where}[{index}]")
    return errors
