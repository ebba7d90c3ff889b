"""Waggle's demo backend: a small shop traced with the OpenTelemetry Python SDK.

It is the server half of the demo. The page it renders carries the request
span's context in ``<meta name="traceparent">``, so the browser agent's
``documentLoad`` span joins the server's trace; every API response names its
server span in ``Server-Timing``; and the API accepts ``traceparent`` from the
page (same origin always, other origins when listed), so a browser fetch span
becomes the parent of the server span. Spans go over OTLP/HTTP to a
Collector, as any Flask service instrumented with OpenTelemetry would send
them.

Run it with the virtualenv ``scripts/setup.sh`` builds::

    PORT=8080 OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 python www/backend/app.py

Environment:
    PORT                         listening port (8080)
    HOST                         listening address (127.0.0.1)
    OTEL_SERVICE_NAME            service.name of the backend's spans (waggle-demo-backend)
    OTEL_EXPORTER_OTLP_ENDPOINT  Collector base URL for the backend's spans (http://localhost:4318)
    OTEL_BSP_SCHEDULE_DELAY      ms between span exports (200, short so a demo shows spans at once)
    WAGGLE_BROWSER_OTLP_ENDPOINT Collector base URL the page's agent is told to use
                                 (OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318)
    WAGGLE_BACKEND_CORS_ORIGINS  comma-separated origins allowed to call /api/ cross-origin
                                 with trace headers (none)
"""

import html
import json
import mimetypes
import os
import random
import re
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

# Read when the Flask instrumentation starts, so set before it does. "http"
# gives the server spans the stable HTTP names (http.request.method,
# url.path, http.response.status_code) that the browser agent also uses,
# instead of the instrumentation's older default names.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
# The trace headers each request arrived with, as
# http.request.header.traceparent / .tracestate on the server span, so a
# reader can see what the browser actually sent.
os.environ.setdefault("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "traceparent,tracestate")

from flask import Flask, abort, g, has_request_context, request, send_from_directory  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.instrumentation.flask import FlaskInstrumentor  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

WWW = Path(__file__).resolve().parent.parent
REPO = WWW.parent
PKG = REPO / "pkg"

SERVICE_NAME = os.environ.get("OTEL_SERVICE_NAME") or "waggle-demo-backend"
OTLP_ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
BROWSER_OTLP_ENDPOINT = os.environ.get("WAGGLE_BROWSER_OTLP_ENDPOINT") or OTLP_ENDPOINT
CORS_ORIGINS = frozenset(o.strip().rstrip("/") for o in os.environ.get("WAGGLE_BACKEND_CORS_ORIGINS", "").split(",") if o.strip())
# Request headers a cross-origin page may send: the W3C trace context pair
# the browser agent adds, and what the demo page itself sends.
CORS_ALLOW_HEADERS = "traceparent, tracestate, content-type, x-user-id"

# Where a user id may come from, most specific first: the header the demo
# page sends on API calls, its cookie, and ?user= on the page URL (the only
# one a first page load can carry).
USER_HEADER = "X-User-Id"
USER_COOKIE = "user_id"
USER_QUERY = "user"

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")


def current_user_id():
    """The demo user's id for this request, or None outside a request or when none was sent."""
    if not has_request_context():
        return None
    if "user_id" not in g:
        raw = request.headers.get(USER_HEADER) or request.cookies.get(USER_COOKIE) or request.args.get(USER_QUERY) or ""
        raw = raw.strip()[:64]
        g.user_id = raw or None
    return g.user_id


class UserIdSpanProcessor(SpanProcessor):
    """Puts ``user.id`` on every span started while a request is handled.

    The server span and each child span carry it, so a query such as
    "latency by user.id" works on any span, not only the root.
    """

    def on_start(self, span, parent_context=None):
        user = current_user_id()
        if user:
            span.set_attribute("user.id", user)


def build_tracer_provider():
    """The SDK pipeline: user ids on every span, then batched OTLP/HTTP export."""
    resource = Resource.create({"service.name": SERVICE_NAME})
    # The atexit hook is replaced by the explicit shutdown in main(), which
    # also runs on SIGTERM.
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(UserIdSpanProcessor())
    delay_ms = float(os.environ.get("OTEL_BSP_SCHEDULE_DELAY") or 200)
    # OTLPSpanExporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and the
    # header/timeout variables itself, and appends /v1/traces to the base URL.
    os.environ.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", OTLP_ENDPOINT)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=delay_ms))
    return provider


provider = build_tracer_provider()
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("waggle-demo-backend")


def traceparent_of(span):
    """W3C traceparent of ``span``, or None for a span that is not recorded.

    >>> traceparent_of(trace.INVALID_SPAN) is None
    True
    """
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{format_trace_id(ctx.trace_id)}-{format_span_id(ctx.span_id)}-{int(ctx.trace_flags):02x}"


# --- the shop's data: a real SQLite database, in memory ----------------------

_db = sqlite3.connect(":memory:", check_same_thread=False)
_db_lock = threading.Lock()
_db.executescript(
    """
    CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price_cents INTEGER, stock INTEGER);
    CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, items INTEGER, total_cents INTEGER);
    INSERT INTO products VALUES
      (1, 'Wildflower honey', 850, 40),
      (2, 'Beeswax candle', 1200, 12),
      (3, 'Hive frame', 2400, 5),
      (4, 'Pollen mix', 600, 80);
    """
)
# A query on an in-memory table takes microseconds; a real database server
# is a network hop away. This pause stands for that hop so the demo's
# waterfall looks like an application's. 0 disables it.
DB_LATENCY_MS = float(os.environ.get("WAGGLE_BACKEND_DB_LATENCY_MS") or 4)


def db_query(operation, table, sql, params=()):
    """Runs ``sql`` in a CLIENT span named as the database conventions say ("SELECT products")."""
    with tracer.start_as_current_span(f"{operation} {table}", kind=SpanKind.CLIENT) as span:
        span.set_attribute("db.system.name", "sqlite")
        span.set_attribute("db.operation.name", operation)
        span.set_attribute("db.collection.name", table)
        span.set_attribute("db.query.text", sql)
        if DB_LATENCY_MS > 0:
            time.sleep(DB_LATENCY_MS * random.uniform(0.5, 1.5) / 1000)
        with _db_lock:
            cur = _db.execute(sql, params)
            rows = cur.fetchall()
            _db.commit()
            last_id = cur.lastrowid
        if operation == "SELECT":
            span.set_attribute("db.response.returned_rows", len(rows))
        return rows, last_id


def product_dict(row):
    return {"id": row[0], "name": row[1], "price_cents": row[2], "stock": row[3]}


def compute_price(product, quantity):
    """Price of ``quantity`` of ``product`` in cents, in a ``pricing.compute`` span."""
    with tracer.start_as_current_span("pricing.compute") as span:
        # A volume discount, so the span has something to say.
        discount = 10 if quantity >= 3 else 0
        total = round(product["price_cents"] * quantity * (100 - discount) / 100)
        span.set_attribute("app.product_id", product["id"])
        span.set_attribute("app.quantity", quantity)
        span.set_attribute("app.unit_price_cents", product["price_cents"])
        span.set_attribute("app.discount_pct", discount)
        span.set_attribute("app.price_cents", total)
        return total


# --- the app -------------------------------------------------------------------

app = Flask(__name__, static_folder=None)
app.json.sort_keys = False

# Static files and health checks are not traced: each would be a one-span
# trace of its own (the browser sends no trace header for them) that says
# nothing the browser's resourceFetch spans do not.
EXCLUDED_URLS = os.environ.get("OTEL_PYTHON_FLASK_EXCLUDED_URLS") or (
    r"/pkg/,/healthz,/favicon\.ico,\.(?:js|mjs|css|svg|png|ico|map|wasm|json)(?:\?|$)"
)
FlaskInstrumentor().instrument_app(app, excluded_urls=EXCLUDED_URLS)


def cors_origin():
    """The request's Origin when it may call the API cross-origin, else None."""
    origin = request.headers.get("Origin")
    return origin if origin in CORS_ORIGINS else None


@app.after_request
def response_headers(resp):
    if request.path.startswith("/api/"):
        # The response-side half of trace context: the page (and Resource
        # Timing) can name the server span even when the request carried no
        # traceparent.
        tp = traceparent_of(trace.get_current_span())
        if tp:
            resp.headers["Server-Timing"] = f'traceparent;desc="{tp}"'
        resp.headers.add("Vary", "Origin")
        origin = cors_origin()
        if origin:
            resp.headers["Access-Control-Allow-Origin"] = origin
            # Without these a cross-origin page could neither read
            # Server-Timing from the response nor see it in Resource Timing.
            resp.headers["Access-Control-Expose-Headers"] = "Server-Timing"
            resp.headers["Timing-Allow-Origin"] = origin
    # The agent package is rebuilt while the demo runs; never serve a stale one.
    resp.headers["Cache-Control"] = "no-store"
    return resp


class CorsPreflight:
    """Answers CORS preflights for /api/ before the traced app sees them.

    A preflight is the browser asking permission, not work the app does;
    traced, each would be a root span of its own beside the real request.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") == "OPTIONS"
            and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            and environ.get("PATH_INFO", "").startswith("/api/")
        ):
            headers = [("Vary", "Origin"), ("Content-Length", "0")]
            origin = environ.get("HTTP_ORIGIN")
            if origin in CORS_ORIGINS:
                headers += [
                    ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Allow-Methods", "GET, POST"),
                    ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
                    ("Access-Control-Max-Age", "600"),
                ]
            # Without the Allow-* headers the browser refuses the request.
            start_response("204 No Content", headers)
            return [b""]
        return self.wsgi_app(environ, start_response)


# Outside the instrumentation's own wrapper, so preflights never reach it.
app.wsgi_app = CorsPreflight(app.wsgi_app)

TRACEPARENT_META = re.compile(r'<meta name="traceparent" content="[^"]*">')
ENDPOINT_META = re.compile(r'<meta name="waggle-endpoint" content="[^"]*">')


@app.get("/")
@app.get("/index.html")
@app.get("/orders")
@app.get("/about")
def page():
    """The demo page, with this request's span as the browser's parent."""
    try:
        text = (WWW / "index.html").read_text(encoding="utf-8")
    except OSError:
        abort(404)
    tp = traceparent_of(trace.get_current_span()) or ""
    text = TRACEPARENT_META.sub(lambda _: f'<meta name="traceparent" content="{tp}">', text, count=1)
    endpoint = html.escape(BROWSER_OTLP_ENDPOINT, quote=True)
    text = ENDPOINT_META.sub(lambda _: f'<meta name="waggle-endpoint" content="{endpoint}">', text, count=1)
    return text, 200, {"Content-Type": "text/html; charset=utf-8"}


SNIPPET_MARK = "<!-- waggle snippet -->"


@app.get("/snippet.html")
def snippet_page():
    """The page that adopts the agent through the script-tag snippet."""
    try:
        text = (WWW / "snippet.html").read_text(encoding="utf-8")
        snippet = (PKG / "snippet.html").read_text(encoding="utf-8")
    except OSError:
        abort(404)
    # The snippet as built points at a CDN-style path; here the backend
    # serves the package itself under /pkg/.
    snippet = snippet.replace("'/waggle-rum/waggle.snippet.js'", "'/pkg/waggle.snippet.js'")
    text = text.replace(SNIPPET_MARK, snippet, 1)
    tp = traceparent_of(trace.get_current_span()) or ""
    text = TRACEPARENT_META.sub(lambda _: f'<meta name="traceparent" content="{tp}">', text, count=1)
    endpoint = html.escape(BROWSER_OTLP_ENDPOINT, quote=True)
    text = ENDPOINT_META.sub(lambda _: f'<meta name="waggle-endpoint" content="{endpoint}">', text, count=1)
    return text, 200, {"Content-Type": "text/html; charset=utf-8"}


@app.get("/bundled/")
def bundled_page():
    """The demo's bundled app (scripts/demo.sh bundles it into bundled/dist/)."""
    try:
        text = (WWW / "bundled" / "index.html").read_text(encoding="utf-8")
    except OSError:
        abort(404)
    endpoint = html.escape(BROWSER_OTLP_ENDPOINT, quote=True)
    text = ENDPOINT_META.sub(lambda _: f'<meta name="waggle-endpoint" content="{endpoint}">', text, count=1)
    return text, 200, {"Content-Type": "text/html; charset=utf-8"}


@app.get("/healthz")
def healthz():
    return {"status": "ok", "service.name": SERVICE_NAME}


@app.get("/api/products")
def list_products():
    rows, _ = db_query("SELECT", "products", "SELECT id, name, price_cents, stock FROM products ORDER BY id")
    products = [product_dict(r) for r in rows]
    trace.get_current_span().set_attribute("app.result_count", len(products))
    return {"products": products}


@app.get("/api/products/<int:product_id>")
def product_details(product_id):
    trace.get_current_span().set_attribute("app.product_id", product_id)
    rows, _ = db_query(
        "SELECT", "products", "SELECT id, name, price_cents, stock FROM products WHERE id = ?", (product_id,)
    )
    if not rows:
        return {"error": f"no product {product_id}"}, 404
    product = product_dict(rows[0])
    product["price_for_3_cents"] = compute_price(product, 3)
    return product


@app.post("/api/checkout")
def checkout():
    span = trace.get_current_span()
    body = request.get_json(silent=True) or {}
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        span.set_attribute("app.cart_items", 0)
        return {"error": "the cart is empty"}, 400
    try:
        wanted = {int(i["id"]): max(1, int(i.get("qty", 1))) for i in items}
    except (KeyError, TypeError, ValueError):
        return {"error": "items must be [{id, qty}]"}, 400
    span.set_attribute("app.cart_items", len(wanted))
    span.set_attribute("app.cart_quantity", sum(wanted.values()))

    marks = ",".join("?" * len(wanted))
    rows, _ = db_query(
        "SELECT", "products", f"SELECT id, name, price_cents, stock FROM products WHERE id IN ({marks})", tuple(wanted)
    )
    found = {r[0]: product_dict(r) for r in rows}
    missing = sorted(set(wanted) - set(found))
    if missing:
        return {"error": f"unknown products {missing}"}, 404
    total = sum(compute_price(found[pid], qty) for pid, qty in wanted.items())

    with tracer.start_as_current_span("payment.authorize") as pay:
        pay.set_attribute("app.order_total_cents", total)
        pay.set_attribute("app.payment_provider", "demo-pay")
        # Stands for the payment provider's round trip.
        time.sleep(random.uniform(0.02, 0.04))
    _, order_id = db_query(
        "INSERT",
        "orders",
        "INSERT INTO orders (user_id, items, total_cents) VALUES (?, ?, ?)",
        (current_user_id(), len(wanted), total),
    )
    span.set_attribute("app.order_id", order_id)
    span.set_attribute("app.order_total_cents", total)
    return {"order_id": order_id, "items": len(wanted), "total_cents": total}, 201


@app.get("/api/fail")
def fail():
    """Always 500: an exception in a child span, as a broken dependency gives."""
    with tracer.start_as_current_span("inventory.lookup") as span:
        span.set_attribute("app.warehouse", "north")
        # start_as_current_span records the exception and marks the span
        # ERROR on its way out; the Flask instrumentation does the same for
        # the server span.
        raise RuntimeError("inventory service unavailable")


@app.get("/api/slow")
def slow():
    try:
        delay = int(request.args.get("ms", "800"))
    except ValueError:
        delay = 800
    delay = min(max(delay, 0), 5000)
    with tracer.start_as_current_span("report.generate") as span:
        span.set_attribute("app.delay_ms", delay)
        time.sleep(delay / 1000)
    return {"delay_ms": delay}


@app.errorhandler(500)
def server_error(err):
    cause = getattr(err, "original_exception", None) or err
    return {"error": str(cause) or "internal error"}, 500


@app.errorhandler(404)
def not_found(err):
    if request.path.startswith("/api/"):
        return {"error": "not found"}, 404
    return err


@app.get("/pkg/<path:name>")
def package_file(name):
    """The agent package that scripts/build.sh writes to pkg/."""
    if not PKG.is_dir():
        return "pkg/ is missing: build the agent with `bash scripts/build.sh`\n", 404, {"Content-Type": "text/plain"}
    return send_from_directory(PKG, name, max_age=0)


@app.get("/<path:name>")
def static_file(name):
    """The page's own files in www/, never this backend's source."""
    parts = name.split("/")
    if parts[0] == "backend" or any(p.startswith(".") for p in parts):
        abort(404)
    return send_from_directory(WWW, name, max_age=0)


def _exit_on_sigterm(signum, frame):
    # SystemExit unwinds serve_forever() into main()'s finally, which
    # flushes the spans still queued.
    raise SystemExit(0)


def main():
    host = os.environ.get("HOST") or "127.0.0.1"
    try:
        port = int(os.environ.get("PORT") or 8080)
    except ValueError:
        print(f"{SERVICE_NAME}: PORT={os.environ.get('PORT')!r} is not a port number", file=sys.stderr)
        return 2
    try:
        server = make_server(host, port, app, threaded=True)
    except SystemExit:
        # Werkzeug has printed why (usually the port is in use) and exits.
        print(f"{SERVICE_NAME}: cannot listen on {host}:{port}; set PORT to a free port", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(
        json.dumps(
            {
                "listening": f"http://{host}:{server.port}/",
                "service.name": SERVICE_NAME,
                "otlp_endpoint": OTLP_ENDPOINT,
                "cors_origins": sorted(CORS_ORIGINS),
            }
        ),
        flush=True,
    )
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
