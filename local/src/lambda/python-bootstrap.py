"""A small Python runtime for the local Lambda emulator, standard library only.

Loads `_HANDLER` (`module.function`, the module relative to `LAMBDA_TASK_ROOT`, directories allowed as
`dir/module.function`) and serves the Runtime API loop
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) as Lambda's managed Python runtime does.
Started by the emulator as `python3 -u python-bootstrap.py`.
"""

import importlib
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request

RUNTIME = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"
# No proxy: the Runtime API is on this host, whatever HTTP_PROXY says.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method, path, body=None, headers=None):
    """A GET, or a POST of `body` as JSON (`None` is sent as `null`)."""
    data = None if method == "GET" else json.dumps(body).encode()
    sent = dict(headers or {})
    if data is not None:
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(RUNTIME + path, data=data, method=method, headers=sent)
    try:
        with opener.open(request) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def lambda_error(err, error_type=None):
    return {
        "errorMessage": str(err),
        "errorType": error_type or type(err).__name__,
        "stackTrace": traceback.format_tb(err.__traceback__),
    }


def post_error(path, error):
    call("POST", path, error, {"Lambda-Runtime-Function-Error-Type": error["errorType"]})


class Context:
    """What the handler gets as `context`, with the managed runtime's attribute names."""

    def __init__(self, headers, request_id):
        self.aws_request_id = request_id
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler():
    spec = os.environ.get("_HANDLER", "")
    module_path, _, name = spec.rpartition(".")
    if not module_path or not name:
        raise HandlerError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not module.function")
    root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_path.replace("/", "."))
    except ImportError as err:
        raise HandlerError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {err}")
    handler = getattr(module, name, None)
    if not callable(handler):
        raise HandlerError("Runtime.HandlerNotFound", f"Handler '{name}' missing on module '{module_path}'")
    return handler


class HandlerError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def main():
    try:
        handler = load_handler()
    except HandlerError as err:
        error = lambda_error(err, err.error_type)
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
        post_error("/init/error", error)
        sys.exit(1)
    except Exception as err:  # the module raised while it was imported
        error = lambda_error(err, "Runtime.UserCodeSyntaxError" if isinstance(err, SyntaxError) else None)
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
        post_error("/init/error", error)
        sys.exit(1)

    while True:
        status, headers, body = call("GET", "/invocation/next")
        if status != 200:
            raise RuntimeError(f"invocation/next answered {status}")
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")
        try:
            result = handler(json.loads(body or b"null"), Context(headers, request_id))
            call("POST", f"/invocation/{request_id}/response", result)
        except Exception as err:
            error = lambda_error(err)
            print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
            post_error(f"/invocation/{request_id}/error", error)


if __name__ == "__main__":
    main()
