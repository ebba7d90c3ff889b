"""Runs the Flask example of docs/guides.md, as the guide shows it.

python tests/guides/flask_guide.py GUIDE_CODE_FILE, with PORT and
OTEL_EXPORTER_OTLP_ENDPOINT set. The guide's code is the app; this only
adds what any instrumented service has already: the OpenTelemetry SDK
exporting spans over OTLP/HTTP (to the test's Collector).
"""

import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "guide-flask"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

guide = {"__name__": "guide"}
with open(sys.argv[1], encoding="utf-8") as f:
    exec(compile(f.read(), "docs/guides.md (Flask)", "exec"), guide)
guide["app"].run(host="127.0.0.1", port=int(os.environ["PORT"]))
