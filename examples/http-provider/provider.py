#!/usr/bin/env python3
"""A remote provider service speaking Polybroker's provider protocol v1 (README, "Remote
provider protocol v1"), in the Python standard library only: a template for writing one in any
language, and the server Polybroker's own tests run the `http` plugin against.

What it provides: an "API" per instance. Each binding gets its own token; a client proves it
with `GET /api/<instance-id>/whoami` and `Authorization: Bearer <token>` (200 while the binding
exists, 401 after unbind). State is kept in a JSON file, so a restart loses nothing.

    provider.py --state FILE [--host 127.0.0.1] [--port 0]

Polybroker authenticates with basic auth (PROVIDER_USERNAME / PROVIDER_PASSWORD) or a bearer
token (PROVIDER_TOKEN), from the environment. The first line printed is `listening on HOST:PORT`.
"""

import argparse
import base64
import hmac
import json
import os
import secrets
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

PROTOCOL_VERSION = "1"


class Store:
    """Instances and bindings in a JSON file, written atomically after each change."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.data = {"instances": {}}
        if os.path.exists(path):
            with open(path) as handle:
                self.data = json.load(handle)

    def save(self):
        temporary = self.path + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(self.data, handle, indent=2, sort_keys=True)
        os.replace(temporary, self.path)


class Handler(BaseHTTPRequestHandler):
    server_version = "polybroker-example-provider/1"

    # --- plumbing -------------------------------------------------------------------------
    def log_message(self, *args):
        pass  # quiet: requests carry credentials in their bodies' answers

    def answer(self, status, body=None):
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length == 0:
            return {}
        try:
            value = json.loads(self.rfile.read(length))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def authorized(self):
        expected = None
        if os.environ.get("PROVIDER_TOKEN"):
            expected = "Bearer " + os.environ["PROVIDER_TOKEN"]
        elif os.environ.get("PROVIDER_USERNAME"):
            pair = os.environ["PROVIDER_USERNAME"] + ":" + os.environ.get("PROVIDER_PASSWORD", "")
            expected = "Basic " + base64.b64encode(pair.encode()).decode()
        if expected is None:
            return True
        return hmac.compare_digest(self.headers.get("Authorization", ""), expected)

    def route(self):
        parts = [unquote(part) for part in urlsplit(self.path).path.strip("/").split("/") if part]
        return parts

    def dispatch(self, method):
        parts = self.route()
        store = self.server.store
        if parts[:1] == ["api"]:
            return self.api(parts[1:])
        if not self.authorized():
            return self.answer(401, {"description": "bad credentials"})
        if self.headers.get("X-Polybroker-Provider-API") not in (None, PROTOCOL_VERSION):
            return self.answer(400, {"description": "this provider speaks protocol version 1"})
        with store.lock:
            if method == "GET" and parts == ["health"]:
                return self.answer(200, {"status": "ok"})
            if method == "POST" and parts == ["instances"]:
                return self.create(store)
            if len(parts) == 2 and parts[0] == "instances":
                if method == "DELETE":
                    return self.delete(store, parts[1])
                if method == "PATCH":
                    return self.update(store, parts[1])
            if len(parts) == 3 and parts[0] == "instances" and parts[2] == "bindings" and method == "POST":
                return self.bind(store, parts[1])
            if len(parts) == 4 and parts[0] == "instances" and parts[2] == "bindings" and method == "DELETE":
                return self.unbind(store, parts[1], parts[3])
        return self.answer(404, {"description": "no such resource"})

    do_GET = lambda self: self.dispatch("GET")
    do_POST = lambda self: self.dispatch("POST")
    do_PATCH = lambda self: self.dispatch("PATCH")
    do_DELETE = lambda self: self.dispatch("DELETE")

    # --- the protocol ---------------------------------------------------------------------
    def create(self, store):
        body = self.body()
        if body is None or not isinstance(body.get("id"), str) or not isinstance(body.get("plan"), dict):
            return self.answer(400, {"description": "expected {id, name, offering, plan, params}"})
        instances = store.data["instances"]
        existing = instances.get(body["id"])
        fields = {key: body.get(key) for key in ("name", "offering", "plan", "params")}
        if existing is not None:
            if {key: existing[key] for key in fields} != fields:
                return self.answer(409, {"description": "instance exists with other attributes"})
            return self.answer(200, {"state": {"api": existing["api"]}})
        api = "/api/" + body["id"]
        instances[body["id"]] = dict(fields, api=api, bindings={})
        store.save()
        return self.answer(201, {"state": {"api": api}})

    def update(self, store, instance_id):
        body = self.body()
        instance = store.data["instances"].get(instance_id)
        if instance is None:
            return self.answer(404, {"description": "no such instance"})
        if body is None or not isinstance(body.get("plan"), dict):
            return self.answer(400, {"description": "expected {plan, previous_plan, params, state}"})
        instance["plan"] = body["plan"]
        instance["params"] = body.get("params")
        store.save()
        return self.answer(200, {})

    def delete(self, store, instance_id):
        if store.data["instances"].pop(instance_id, None) is None:
            return self.answer(410, {})
        store.save()
        return self.answer(200, {})

    def bind(self, store, instance_id):
        body = self.body()
        instance = store.data["instances"].get(instance_id)
        if instance is None:
            return self.answer(404, {"description": "no such instance"})
        if body is None or not isinstance(body.get("id"), str):
            return self.answer(400, {"description": "expected {id, params, state}"})
        binding = instance["bindings"].get(body["id"])
        if binding is None:
            binding = {"token": secrets.token_hex(24), "params": body.get("params")}
            instance["bindings"][body["id"]] = binding
            store.save()
        host, port = self.server.server_address[:2]
        url = "http://%s:%d%s" % (host, port, instance["api"])
        return self.answer(201, {"creds": {"uri": url, "token": binding["token"], "port": port}})

    def unbind(self, store, instance_id, binding_id):
        instance = store.data["instances"].get(instance_id)
        if instance is None or instance["bindings"].pop(binding_id, None) is None:
            return self.answer(410, {})
        store.save()
        return self.answer(200, {})

    # --- what the credentials open --------------------------------------------------------
    def api(self, parts):
        store = self.server.store
        if len(parts) != 2 or parts[1] != "whoami":
            return self.answer(404, {"description": "no such resource"})
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        with store.lock:
            instance = store.data["instances"].get(parts[0])
            for binding_id, binding in (instance or {}).get("bindings", {}).items():
                if hmac.compare_digest(binding["token"], token):
                    return self.answer(200, {"instance": parts[0], "binding": binding_id})
        return self.answer(401, {"description": "unknown token"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    # Stop on SIGTERM/SIGINT even when started by a parent that ignores or blocks them.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    server = ThreadingHTTPServer((arguments.host, arguments.port), Handler)
    server.store = Store(arguments.state)
    print("listening on %s:%d" % server.server_address[:2], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
