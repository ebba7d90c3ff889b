package sourcemapprocessor

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

// The attribute keys of Honeycomb's source-map symbolicator, so that its
// boards and queries work on what this processor writes.
const (
	keyURLs      = "exception.structured_stacktrace.urls"
	keyLines     = "exception.structured_stacktrace.lines"
	keyColumns   = "exception.structured_stacktrace.columns"
	keyFunctions = "exception.structured_stacktrace.functions"
	keyStack     = "exception.stacktrace"
	keyType      = "exception.type"
	keyMessage   = "exception.message"
	keyFailed    = "exception.symbolicator.failed"
	keyError     = "exception.symbolicator.error"
	original     = ".original"
)

type symbolicator struct {
	cfg    *Config
	store  *store
	logger *zap.Logger
}

func newSymbolicator(cfg *Config, logger *zap.Logger) *symbolicator {
	return &symbolicator{cfg: cfg, store: newStore(cfg), logger: logger}
}

func (s *symbolicator) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	if !s.cfg.enabled() {
		return td, nil
	}
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			spans := ss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s.processSpan(ctx, spans.At(k))
			}
		}
	}
	return td, nil
}

func (s *symbolicator) processSpan(ctx context.Context, span ptrace.Span) {
	beforeStack := strAttr(span.Attributes(), keyStack)
	readable, ok := s.processAttributes(ctx, span.Attributes())
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		if ev.Name() != "exception" {
			continue
		}
		if _, own := s.processAttributes(ctx, ev.Attributes()); own {
			continue
		}
		// The event that repeats the span's stack (the agent puts the
		// exception on both) reads the same as the span.
		if v, has := ev.Attributes().Get(keyStack); ok && has && v.AsString() == beforeStack && beforeStack != "" {
			ev.Attributes().PutStr(keyStack+original, beforeStack)
			ev.Attributes().PutStr(keyStack, readable)
		}
	}
}

// frame is one stack frame; line and column are 1-based, 0 unknown.
type frame struct {
	url, function string
	line, column  int64
}

// processAttributes symbolicates the frames in attrs, if it has them. It
// reports the readable stack when any frame was mapped, and whether attrs
// had frames at all.
func (s *symbolicator) processAttributes(ctx context.Context, attrs pcommon.Map) (string, bool) {
	frames, ok := readFrames(attrs)
	if !ok {
		return "", false
	}
	mapped := make([]frame, len(frames))
	var firstErr error
	failed, any := false, false
	for i, f := range frames {
		m, err := s.mapFrame(ctx, f)
		switch {
		case err != nil:
			failed = true
			if firstErr == nil {
				firstErr = err
			}
			mapped[i] = f
		case m == nil:
			mapped[i] = f
		default:
			any = true
			mapped[i] = *m
		}
	}
	if !any && !failed {
		// Nothing had a script URL: nothing to say.
		return "", true
	}
	attrs.PutBool(keyFailed, failed)
	if firstErr != nil {
		attrs.PutStr(keyError, firstErr.Error())
		s.logger.Debug("symbolication incomplete", zap.Error(firstErr))
	}
	if !any {
		return "", true
	}
	for _, k := range []string{keyURLs, keyLines, keyColumns, keyFunctions} {
		v, _ := attrs.Get(k)
		v.CopyTo(attrs.PutEmpty(k + original))
	}
	writeFrames(attrs, mapped)
	if _, has := attrs.Get(keyStack); has {
		attrs.PutStr(keyStack+original, strAttr(attrs, keyStack))
	}
	readable := formatStack(attrs, mapped)
	attrs.PutStr(keyStack, readable)
	return readable, true
}

// readFrames reads the four parallel arrays; they must all be there, of
// one length.
func readFrames(attrs pcommon.Map) ([]frame, bool) {
	var slices [4]pcommon.Slice
	for i, k := range []string{keyURLs, keyLines, keyColumns, keyFunctions} {
		v, ok := attrs.Get(k)
		if !ok || v.Type() != pcommon.ValueTypeSlice {
			return nil, false
		}
		slices[i] = v.Slice()
	}
	n := slices[0].Len()
	for _, sl := range slices[1:] {
		if sl.Len() != n {
			return nil, false
		}
	}
	frames := make([]frame, n)
	for i := range frames {
		frames[i] = frame{
			url:      slices[0].At(i).AsString(),
			line:     asInt(slices[1].At(i)),
			column:   asInt(slices[2].At(i)),
			function: slices[3].At(i).AsString(),
		}
	}
	return frames, true
}

func strAttr(attrs pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	return ""
}

func asInt(v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	case pcommon.ValueTypeStr:
		n, _ := strconv.ParseInt(v.Str(), 10, 64)
		return n
	}
	return 0
}

func writeFrames(attrs pcommon.Map, frames []frame) {
	urls := attrs.PutEmptySlice(keyURLs)
	lines := attrs.PutEmptySlice(keyLines)
	columns := attrs.PutEmptySlice(keyColumns)
	functions := attrs.PutEmptySlice(keyFunctions)
	for _, f := range frames {
		urls.AppendEmpty().SetStr(f.url)
		lines.AppendEmpty().SetInt(f.line)
		columns.AppendEmpty().SetInt(f.column)
		functions.AppendEmpty().SetStr(f.function)
	}
}

// formatStack writes frames as V8 does, after the type and message.
func formatStack(attrs pcommon.Map, frames []frame) string {
	var b strings.Builder
	b.WriteString(strAttr(attrs, keyType))
	if m := strAttr(attrs, keyMessage); m != "" {
		b.WriteString(": ")
		b.WriteString(m)
	}
	for _, f := range frames {
		b.WriteString("\n    at ")
		loc := f.url
		if f.line > 0 {
			loc += ":" + strconv.FormatInt(f.line, 10)
			if f.column > 0 {
				loc += ":" + strconv.FormatInt(f.column, 10)
			}
		}
		switch {
		case f.url == "":
			b.WriteString(f.function)
		case f.function == "":
			b.WriteString(loc)
		default:
			b.WriteString(f.function + " (" + loc + ")")
		}
	}
	return b.String()
}

// mapFrame is the original frame for f, nil for a frame with nothing to
// map (no script URL), or why it could not be mapped.
func (s *symbolicator) mapFrame(ctx context.Context, f frame) (*frame, error) {
	if f.url == "" {
		return nil, nil
	}
	sm := s.store.get(ctx, f.url)
	if sm.err != nil {
		return nil, sm.err
	}
	if f.line < 1 {
		return nil, fmt.Errorf("%s: the frame has no line", f.url)
	}
	// Stacks count columns from 1, source maps from 0.
	col := max(f.column-1, 0)
	src, _, line, column, ok := sm.consumer.Source(int(f.line), int(col))
	if !ok || src == "" {
		return nil, fmt.Errorf("%s: the source map has nothing at line %d column %d", f.url, f.line, f.column)
	}
	return &frame{url: sourcePath(sm.path, src), line: int64(line), column: int64(column) + 1, function: originalName(sm, f, src, line, column)}, nil
}

// sourcePath is a map's source as the site's path it stands for: a
// relative one (`../src/app.js`) is taken from the map's folder, as the
// spec says and browsers' developer tools show it; a URL
// (`webpack://app/./src/app.js`) or an absolute path stays.
func sourcePath(mapPath, src string) string {
	if strings.HasPrefix(src, "/") || strings.Contains(src, "://") {
		return src
	}
	return path.Join(path.Dir(mapPath), src)
}
