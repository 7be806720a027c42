// Package tracing is modshop's OpenTelemetry tracing: the tracer provider,
// built from the standard OTEL_* variables, the W3C trace-context
// propagator, and the small helpers the platform's HTTP server, remote
// client, database and event bus use to make spans.
//
// With neither OTEL_EXPORTER_OTLP_ENDPOINT nor
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, or with OTEL_TRACES_EXPORTER=none,
// nothing is exported: the provider samples no span, so a span records
// nothing and costs little more than making its ids. OTEL_SDK_DISABLED=true
// turns tracing off altogether: no ids either. The ids still travel (traceparent headers and event metadata), so
// the log lines of one purchase share a trace_id across processes even
// then.
package tracing

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// off is the provider when nothing is exported: spans get ids, so that
// logs and callees can tell one trace from another, and record nothing.
var off = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))

// IDsOnly installs the provider that gives spans ids and exports nothing,
// unless one is installed already. Tracers taken before (the platform's
// package-level ones) follow the first provider installed: OpenTelemetry's
// global delegates to it.
func IDsOnly() {
	otel.SetTextMapPropagator(Propagator)
	if _, set := otel.GetTracerProvider().(*sdktrace.TracerProvider); !set {
		otel.SetTracerProvider(off)
	}
}

// Propagator is the one propagator every process uses: W3C trace context.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Enabled reports whether the OTEL_* environment asks for export.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the global propagator and, when the environment asks for
// it, a tracer provider that exports over OTLP/HTTP (protocol, headers,
// timeouts and sampler from the OTEL_* variables, which the SDK reads
// itself). service names the process when OTEL_SERVICE_NAME does not. The
// returned function flushes and stops the exporter; it is safe to call
// when nothing was set up.
func Setup(ctx context.Context, service string, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		// OpenTelemetry's no-op: no span, no id, no traceparent sent on.
		otel.SetTextMapPropagator(Propagator)
		return func(context.Context) error { return nil }, nil
	}
	if !Enabled(os.Getenv) {
		IDsOnly()
		return func(context.Context) error { return nil }, nil
	}
	otel.SetTextMapPropagator(Propagator)
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	// resource.Default reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES;
	// the later of two merged resources wins, so ours names the process
	// only when the environment does not.
	ours := resource.NewSchemaless(semconv.ServiceName(service))
	res, err := resource.Merge(resource.Default(), ours)
	if os.Getenv("OTEL_SERVICE_NAME") != "" {
		res, err = resource.Merge(ours, resource.Default())
	}
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "err", err) }))
	log.Info("tracing: exporting spans over OTLP/HTTP", "service", service)
	return tp.Shutdown, nil
}

// Tracer is the tracer of one platform package.
func Tracer(name string) trace.Tracer {
	return otel.Tracer("github.com/modshop/modshop/" + name)
}

// Inject writes ctx's span context into a carrier (headers, metadata).
func Inject(ctx context.Context, c propagation.TextMapCarrier) { Propagator.Inject(ctx, c) }

// Extract returns ctx with the span context the carrier holds, if any.
func Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return Propagator.Extract(ctx, c)
}

// Traceparent is ctx's span context as a W3C traceparent, or "".
func Traceparent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	Propagator.Inject(ctx, c)
	return c["traceparent"]
}

// FromTraceparent returns ctx carrying the remote span context a
// traceparent names; an empty or malformed one leaves ctx as it is.
func FromTraceparent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return Propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// End records err on span, if any, and ends it.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codesError, err.Error())
	}
	span.End()
}
