// Package sourcemapprocessor maps the minified frames of browser
// exceptions back to their original source through source maps.
//
// It reads the parallel arrays exception.structured_stacktrace.urls,
// .lines, .columns and .functions (the shape Honeycomb's source-map
// symbolicator reads, which the Waggle agent sends), writes the original
// frames in their place, keeps what came under the same keys with
// .original appended, rewrites exception.stacktrace into a readable
// stack (the one received kept as exception.stacktrace.original) and says
// how it went in exception.symbolicator.failed and
// exception.symbolicator.error.
package sourcemapprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var componentType = component.MustNewType("sourcemap")

// NewFactory makes the processor's factory, for the Collector Builder's
// manifest.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config { return createDefaultConfig() },
		processor.WithTraces(createTraces, component.StabilityLevelAlpha),
	)
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := cfg.(*Config)
	p := newSymbolicator(c, set.Logger)
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: c.enabled()}))
}
