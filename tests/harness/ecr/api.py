# SPDX-License-Identifier: Apache-2.0
"""The emulator's control plane: ECR's JSON 1.1 API and Secrets Manager's GetSecretValue.

Requests are `POST /` with `X-Amz-Target: PREFIX.Operation` and
`Content-Type: application/x-amz-json-1.1`, where PREFIX is the model's
targetPrefix (`AmazonEC2ContainerRegistry_V20150921` for ECR,
`secretsmanager` for Secrets Manager). Each request goes through, in order:

1. the SigV4 check (signing.py), with the model's signing name as service;
2. the fault queue: a fault queued for the operation is returned instead;
3. JSON decoding and the model checks (validation.py);
4. the operation (operations.py), whose response is checked against the
   output shape so that a mistake in the emulator shows up as a 500.

Errors are `{"__type": CODE, "message": TEXT}` (Secrets Manager: "Message"),
with the code optionally prefixed as set in EmulatorState.error_type_prefix.
Every request with a known operation is recorded as a state.Call.
"""

import http.server
import json
import uuid

from .. import runtime
from . import signing, validation
from .operations import ApiError, EcrOperations, RequestContext, SecretsManagerOperations
from .state import FAULT_MESSAGE, FAULT_STATUS, Call, Fault

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_REQUEST_BYTES = 1024 * 1024

# Operations each service implements here. Others in the model get
# UnknownOperationException.
ECR_OPERATIONS = (
    "BatchDeleteImage", "BatchGetImage", "CreateRepository", "DeleteLifecyclePolicy",
    "DeleteRepository", "DescribeImages", "DescribeRepositories", "GetAuthorizationToken",
    "GetLifecyclePolicy", "ListImages", "ListTagsForResource", "PutImageScanningConfiguration",
    "PutImageTagMutability", "PutLifecyclePolicy", "TagResource", "UntagResource",
)
SECRETS_MANAGER_OPERATIONS = ("GetSecretValue",)


class _Service:
    """One emulated service: its model name, target prefix and handler object."""

    def __init__(self, name, handler, operations):
        model = validation.service_model(name)
        self.name = name
        self.target_prefix = model.metadata["targetPrefix"]
        self.signing_name = model.metadata.get("signingName", model.metadata["endpointPrefix"])
        self.handler = handler
        self.operations = operations
        self.message_key = "Message" if name == "secretsmanager" else "message"


class ApiServer:
    """Control plane HTTP server on 127.0.0.1.

    credential_store maps access key ids to signing.TestCredentials and may
    be changed while the server runs. proxy_endpoint is a callable returning
    the data plane URL that GetAuthorizationToken reports.
    """

    def __init__(self, state, storage, credential_store, proxy_endpoint, logger):
        self.state = state
        self.credential_store = credential_store
        self.logger = logger
        self.ecr = EcrOperations(state, storage, proxy_endpoint)
        self.secrets_manager = SecretsManagerOperations(state)
        self._services = [
            _Service("ecr", self.ecr, ECR_OPERATIONS),
            _Service("secretsmanager", self.secrets_manager, SECRETS_MANAGER_OPERATIONS),
        ]
        self._server = None
        self._thread = None
        self.port = None

    @property
    def url(self):
        return f"http://{runtime.LOOPBACK}:{self.port}"

    def start(self):
        self._server = runtime.LoggingHTTPServer((runtime.LOOPBACK, 0), _make_handler(self),
                                                 self.logger.error)
        self.port = self._server.server_address[1]
        self._thread = runtime.serve_in_thread(self._server, f"ecr-api-{self.port}")
        self.logger.info("control plane listening on %s", self.url)
        return self

    def stop(self):
        if self._server is not None:
            runtime.stop_serving(self._server, self._thread)
            self._server = None
            self.logger.info("control plane stopped")

    def service_for_target(self, target):
        """Return (service, operation) for an X-Amz-Target value, or (None, None)."""
        prefix, _, operation = (target or "").partition(".")
        for service in self._services:
            if service.target_prefix == prefix and operation:
                return service, operation
        return None, None

    def error_body(self, service, error_type, message):
        prefix = self.state.error_type_prefix or ""
        key = service.message_key if service is not None else "message"
        return {"__type": prefix + error_type, key: message}

    def handle(self, method, path, headers, body):
        """Process one request and return (200, response document, Call).

        An error response is raised as _Rejection, with the Call it ends.
        """
        target = headers.get("X-Amz-Target")
        service, operation = self.service_for_target(target)
        if service is None:
            raise _Rejection(None, 400, "UnknownOperationException",
                             f"unknown X-Amz-Target '{target}'")
        call = _CallBuilder(service.name, operation)

        try:
            identity = signing.verify_request(method, path, headers, body,
                                              dict(self.credential_store),
                                              service.signing_name)
        except signing.SignatureError as error:
            call.access_key_id = error.access_key_id
            call.region = error.region
            raise _Rejection(service, error.status, error.error_type, error.message,
                             call) from None
        call.access_key_id = identity.access_key_id
        call.region = identity.region

        if operation not in service.operations:
            raise _Rejection(service, 400, "UnknownOperationException",
                             f"the emulator does not implement {service.name} {operation}",
                             call)
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type != JSON_CONTENT_TYPE:
            raise _Rejection(service, 400, "SerializationException",
                             f"Content-Type must be {JSON_CONTENT_TYPE}, not '{content_type}'",
                             call)
        try:
            params = json.loads(body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _Rejection(service, 400, "SerializationException",
                             f"the request body is not valid JSON: {error}", call) from None
        if not isinstance(params, dict):
            raise _Rejection(service, 400, "SerializationException",
                             "the request body must be a JSON object", call)
        call.params = validation.redact_input(service.name, operation, params)

        fault = self.state.take_fault(operation)
        if fault is not None:
            self.logger.info("injected %s (HTTP %d) for %s", fault.error_type, fault.status,
                             operation)
            raise _Rejection(service, fault.status, fault.error_type, fault.message, call)

        problems = validation.validate_input(service.name, operation, params)
        if problems:
            raise _Rejection(service, 400, "InvalidParameterException",
                             "; ".join(problems), call)

        context = RequestContext(identity.access_key_id, identity.region)
        try:
            result = getattr(service.handler, operation)(context, params)
        except ApiError as error:
            raise _Rejection(service, error.status, error.error_type, error.message,
                             call) from None
        report = validation.validate_output(service.name, operation, result)
        if report:
            self.logger.error("%s response does not match the model: %s", operation, report)
            raise _Rejection(service, 500, "InternalFailure",
                             f"emulator error: the {operation} response does not match the "
                             f"model: {report}", call)
        return 200, result, call.build(200, None)

    def queue_fault(self, operation, error_type, count, status=None, message=None):
        status = status or FAULT_STATUS.get(error_type, 400)
        message = message or FAULT_MESSAGE.get(error_type, f"injected {error_type}")
        self.state.queue_fault(operation, Fault(error_type, status, message), count)


class _CallBuilder:
    """The parts of a Call known so far while a request is processed."""

    def __init__(self, service, operation):
        self.service = service
        self.operation = operation
        self.params = None
        self.access_key_id = None
        self.region = None

    def build(self, status, error):
        return Call(self.service, self.operation, self.params, self.access_key_id,
                    self.region, status, error)


class _Rejection(Exception):
    """An error response, with the call it ends (None for an unknown target)."""

    def __init__(self, service, status, error_type, message, call=None):
        super().__init__(message)
        self.service = service
        self.status = status
        self.error_type = error_type
        self.message = message
        self.call = call


def _make_handler(api):
    class ApiHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ecr-emulator-api"

        def log_message(self, format, *args):
            # Requests are logged in do_POST, without headers that carry credentials.
            pass

        def _send(self, status, document):
            data = json.dumps(document).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self):
            # A rejected body is left unread, so the connection cannot be reused.
            self.close_connection = True
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                raise _Rejection(None, 400, "SerializationException",
                                 "chunked request bodies are not supported; send Content-Length")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise _Rejection(None, 400, "SerializationException",
                                 "invalid Content-Length") from None
            if length > MAX_REQUEST_BYTES:
                raise _Rejection(None, 413, "SerializationException",
                                 f"request body of {length} bytes exceeds "
                                 f"{MAX_REQUEST_BYTES} bytes")
            body = self.rfile.read(length)
            self.close_connection = False
            return body

        def do_POST(self):
            try:
                body = self._read_body()
                if self.path != "/":
                    raise _Rejection(None, 404, "UnknownOperationException",
                                     f"the API is served at POST /, not {self.path}")
                status, result, call = api.handle("POST", self.path, self.headers, body)
                api.state.record_call(call)
                api.logger.info("%s.%s key=%s region=%s status=200", call.service,
                                call.operation, call.access_key_id, call.region)
                self._send(status, result)
            except _Rejection as rejection:
                if rejection.call is not None:
                    call = rejection.call.build(rejection.status, rejection.error_type)
                    api.state.record_call(call)
                    api.logger.info("%s.%s key=%s region=%s status=%d error=%s: %s",
                                    call.service, call.operation, call.access_key_id,
                                    call.region, rejection.status, rejection.error_type,
                                    rejection.message)
                else:
                    api.logger.info("POST %s status=%d error=%s: %s", self.path,
                                    rejection.status, rejection.error_type, rejection.message)
                self._send(rejection.status,
                           api.error_body(rejection.service, rejection.error_type,
                                          rejection.message))
            except Exception:
                api.logger.exception("control plane request failed")
                self._send(500, api.error_body(None, "InternalFailure",
                                               "the emulator failed; see its log"))

        def _reject_method(self):
            self.close_connection = True  # any request body is left unread
            api.logger.info("%s %s status=404 error=UnknownOperationException",
                            self.command, self.path)
            self._send(404, api.error_body(None, "UnknownOperationException",
                                           f"the API only answers POST /, not {self.command}"))

        do_GET = do_PUT = do_DELETE = do_PATCH = _reject_method

    return ApiHandler

