"""A stand-in for Honeycomb's OTLP/gRPC endpoint, for tests and the load test.

It serves opentelemetry.proto.collector.trace.v1.TraceService, generated
from the official .proto files (PyPI opentelemetry-proto), over plaintext
gRPC, and appends one JSON line per Export call to --out:

    {"time": 1.7e9, "metadata": {"x-honeycomb-team": "..."}, "spans": 3,
     "request": <the ExportTraceServiceRequest as OTLP/JSON>}

"request" is left out with --count-only, which the load test uses so that
the stand-in is not the bottleneck. Signals change its answers while it runs:
SIGUSR1 makes every Export answer UNAVAILABLE (what an overloaded ingest
answers; nothing is recorded), SIGUSR2 goes back to accepting. SIGTERM stops
it. "listening HOST:PORT" on stdout says it is ready; start it again on the
same port to model an endpoint that comes back after an outage.
"""

import argparse
import base64
import json
import signal
import sys
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

# gRPC hands metadata over lower-cased, with its own entries among them.
RECORDED_PREFIXES = ("x-honeycomb-", "user-agent", "content-type", "grpc-encoding")


def otlp_json(request):
    """Protobuf JSON as OTLP/JSON writes it: hex ids, integer enums."""
    body = json_format.MessageToDict(request, use_integers_for_enums=True)

    def hexify(obj, keys):
        for key in keys:
            if key in obj:
                obj[key] = base64.b64decode(obj[key]).hex()

    for rs in body.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                hexify(span, ("traceId", "spanId", "parentSpanId"))
                for link in span.get("links", []):
                    hexify(link, ("traceId", "spanId"))
    return body


class Recorder(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, out, count_only):
        self.out = out
        self.count_only = count_only
        self.lock = threading.Lock()
        self.unavailable = False
        self.calls = 0
        self.spans = 0

    def Export(self, request, context):
        if self.unavailable:
            context.abort(grpc.StatusCode.UNAVAILABLE, "stand-in told to refuse (SIGUSR1)")
        n = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        metadata = {}
        for key, value in context.invocation_metadata():
            if key.startswith(RECORDED_PREFIXES):
                metadata[key] = value
        line = {"time": time.time(), "metadata": metadata, "spans": n}
        if not self.count_only:
            line["request"] = otlp_json(request)
        text = json.dumps(line, separators=(",", ":")) + "\n"
        with self.lock:
            self.out.write(text)
            self.out.flush()
            self.calls += 1
            self.spans += n
        return trace_service_pb2.ExportTraceServiceResponse()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: a free one)")
    parser.add_argument("--out", required=True, help="JSON-lines file, appended to")
    parser.add_argument("--count-only", action="store_true", help="record span counts, not the spans")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    out = open(args.out, "a", encoding="utf-8")
    recorder = Recorder(out, args.count_only)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.workers),
        # A restarted stand-in must be the only one on its port.
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 64 << 20)],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(recorder, server)
    host = args.listen.rsplit(":", 1)[0]
    port = server.add_insecure_port(args.listen)
    if port == 0:
        print(f"cannot listen on {args.listen}", file=sys.stderr)
        sys.exit(1)
    server.start()

    stop = threading.Event()

    def on_signal(signum, _frame):
        if signum == signal.SIGUSR1:
            recorder.unavailable = True
        elif signum == signal.SIGUSR2:
            recorder.unavailable = False
        else:
            stop.set()

    for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, on_signal)

    print(f"listening {host}:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=1).wait()
    out.close()
    print(f"stopped after {recorder.calls} calls, {recorder.spans} spans", flush=True)


if __name__ == "__main__":
    main()
