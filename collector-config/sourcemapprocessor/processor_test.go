package sourcemapprocessor

// The fixture in testdata/site/assets is testdata/src bundled by esbuild:
//
//	esbuild src/app.js --bundle --minify --format=iife --sourcemap \
//	  --sources-content=true --outfile=site/assets/app.min.js
//
// (run in testdata). The minified script is one line:
//
//	(()=>{function n(o){let e={reason:o,at:1};if(e.at>0)throw new Error(...

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
)

const site = "testdata/site"

func minified(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(site, "assets/app.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// col is the 1-based column at which needle starts in the minified
// script, as V8 reports it.
func col(t *testing.T, needle string) int64 {
	t.Helper()
	i := strings.Index(minified(t), needle)
	if i < 0 {
		t.Fatalf("%q not in the fixture", needle)
	}
	return int64(i + 1)
}

// span is an exception span as the agent sends it for a click whose
// handler threw in app.min.js served at origin.
func span(t *testing.T, origin string, extra ...frame) ptrace.Traces {
	t.Helper()
	frames := []frame{
		{url: origin + "/assets/app.min.js?v=3", line: 1, column: col(t, "new Error"), function: "n"},
		{url: origin + "/assets/app.min.js?v=3", line: 1, column: col(t, `n("clicked`), function: "HTMLButtonElement.t"},
		{function: "Array.forEach"},
	}
	frames = append(frames, extra...)
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("exception")
	a := sp.Attributes()
	a.PutStr(keyType, "Error")
	a.PutStr(keyMessage, "exploded: clicked click")
	var stack strings.Builder
	stack.WriteString("Error: exploded: clicked click")
	for _, f := range frames {
		stack.WriteString("\n    at " + f.function + " (" + f.url + ")")
	}
	a.PutStr(keyStack, stack.String())
	writeFrames(a, frames)
	ev := sp.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr(keyStack, stack.String())
	return td
}

func run(t *testing.T, cfg *Config, td ptrace.Traces) ptrace.Span {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.TracesSink)
	f := NewFactory()
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(componentType), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	out := sink.AllTraces()
	if len(out) != 1 {
		t.Fatalf("%d batches out", len(out))
	}
	return out[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
}

func folderConfig(folder string) *Config {
	c := createDefaultConfig()
	c.Folder = folder
	return c
}

func strs(t *testing.T, a pcommon.Map, key string) []string {
	t.Helper()
	v, ok := a.Get(key)
	if !ok {
		t.Fatalf("no %s", key)
	}
	var out []string
	for _, x := range v.Slice().AsRaw() {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case int64:
			out = append(out, itoa(x))
		default:
			t.Fatalf("%s holds %T", key, x)
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func str(t *testing.T, a pcommon.Map, key string) string {
	t.Helper()
	v, ok := a.Get(key)
	if !ok {
		t.Fatalf("no %s", key)
	}
	return v.AsString()
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestFolderMapsFramesBackToTheOriginalSource(t *testing.T) {
	sp := run(t, folderConfig(site), span(t, "http://localhost:8080"))
	a := sp.Attributes()
	equal(t, "urls", strs(t, a, keyURLs), []string{"/src/explode.js", "/src/app.js", ""})
	equal(t, "lines", strs(t, a, keyLines), []string{"4", "8", "0"})
	equal(t, "columns", strs(t, a, keyColumns), []string{"11", "10", "0"})
	equal(t, "functions", strs(t, a, keyFunctions), []string{"explode", "HTMLButtonElement.handleClick", "Array.forEach"})

	min := "http://localhost:8080/assets/app.min.js?v=3"
	equal(t, "original urls", strs(t, a, keyURLs+original), []string{min, min, ""})
	equal(t, "original functions", strs(t, a, keyFunctions+original), []string{"n", "HTMLButtonElement.t", "Array.forEach"})
	equal(t, "original lines", strs(t, a, keyLines+original), []string{"1", "1", "0"})
	equal(t, "original columns", strs(t, a, keyColumns+original), []string{itoa(col(t, "new Error")), itoa(col(t, `n("clicked`)), "0"})

	want := "Error: exploded: clicked click\n" +
		"    at explode (/src/explode.js:4:11)\n" +
		"    at HTMLButtonElement.handleClick (/src/app.js:8:10)\n" +
		"    at Array.forEach"
	if got := str(t, a, keyStack); got != want {
		t.Errorf("stack:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(str(t, a, keyStack+original), "at n (http://localhost:8080/assets/app.min.js?v=3)") {
		t.Errorf("original stack: %s", str(t, a, keyStack+original))
	}
	if v, _ := a.Get(keyFailed); v.Type() != pcommon.ValueTypeBool || v.Bool() {
		t.Errorf("%s = %v", keyFailed, v.AsRaw())
	}
	if _, has := a.Get(keyError); has {
		t.Errorf("%s set on success", keyError)
	}
	// The exception event reads as the span does.
	ev := sp.Events().At(0).Attributes()
	if str(t, ev, keyStack) != want || !strings.Contains(str(t, ev, keyStack+original), "at n (") {
		t.Errorf("event stack: %s", str(t, ev, keyStack))
	}
}

func TestAFrameWithoutAMapStaysAndSaysWhy(t *testing.T) {
	plain := frame{url: "http://localhost:8080/vendor/plain.js", line: 3, column: 7, function: "x"}
	sp := run(t, folderConfig(site), span(t, "http://localhost:8080", plain))
	a := sp.Attributes()
	equal(t, "urls", strs(t, a, keyURLs), []string{"/src/explode.js", "/src/app.js", "", plain.url})
	equal(t, "functions", strs(t, a, keyFunctions), []string{"explode", "HTMLButtonElement.handleClick", "Array.forEach", "x"})
	equal(t, "lines", strs(t, a, keyLines), []string{"4", "8", "0", "3"})
	if v, _ := a.Get(keyFailed); !v.Bool() {
		t.Errorf("%s not true", keyFailed)
	}
	if e := str(t, a, keyError); !strings.Contains(e, "no source map for /vendor/plain.js") {
		t.Errorf("%s = %q", keyError, e)
	}
	if s := str(t, a, keyStack); !strings.HasSuffix(s, "\n    at x (http://localhost:8080/vendor/plain.js:3:7)") {
		t.Errorf("stack: %s", s)
	}
}

func TestNothingMappedLeavesTheFramesAndSaysWhy(t *testing.T) {
	td := span(t, "http://localhost:8080")
	sp := run(t, folderConfig(t.TempDir()), td)
	a := sp.Attributes()
	equal(t, "functions", strs(t, a, keyFunctions), []string{"n", "HTMLButtonElement.t", "Array.forEach"})
	if _, has := a.Get(keyURLs + original); has {
		t.Error("originals copied though nothing was mapped")
	}
	if !strings.Contains(str(t, a, keyStack), "at n (") {
		t.Error("stack rewritten though nothing was mapped")
	}
	if v, _ := a.Get(keyFailed); !v.Bool() {
		t.Errorf("%s not true", keyFailed)
	}
	if e := str(t, a, keyError); !strings.Contains(e, "no source map for /assets/app.min.js") {
		t.Errorf("%s = %q", keyError, e)
	}
}

func TestWithoutAFolderOrURLSpansPassUntouched(t *testing.T) {
	td := span(t, "http://localhost:8080")
	before := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
	sp := run(t, createDefaultConfig(), td)
	after := sp.Attributes().AsRaw()
	if len(after) != len(before) {
		t.Errorf("attributes changed: %v", after)
	}
	if _, has := sp.Attributes().Get(keyFailed); has {
		t.Error("symbolication attempted without a folder or URL")
	}
}

func TestSpansWithoutFramesAreLeftAlone(t *testing.T) {
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.Attributes().PutStr(keyStack, "Error: x\n    at f (http://h/a.js:1:1)")
	sp.Attributes().PutEmptySlice(keyURLs).AppendEmpty().SetStr("http://h/a.js")
	out := run(t, folderConfig(site), td)
	if len(out.Attributes().AsRaw()) != 2 {
		t.Errorf("incomplete arrays were acted on: %v", out.Attributes().AsRaw())
	}
}

// copySite lays out the fixture as a deploy that keeps its maps apart,
// named by the script's sourceMappingURL comment.
func copySite(t *testing.T, comment string) string {
	t.Helper()
	dir := t.TempDir()
	script := strings.Replace(minified(t), "//# sourceMappingURL=app.min.js.map", comment, 1)
	mapBytes, err := os.ReadFile(filepath.Join(site, "assets/app.min.js.map"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(comment, "base64,") {
		script = strings.Replace(script, "BASE64", base64.StdEncoding.EncodeToString(mapBytes), 1)
	}
	for name, body := range map[string]string{"assets/app.min.js": script, "maps/app.min.js.map": string(mapBytes)} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTheScriptsSourceMappingURLCommentIsFollowed(t *testing.T) {
	dir := copySite(t, "//# sourceMappingURL=../maps/app.min.js.map")
	a := run(t, folderConfig(dir), span(t, "https://shop.example")).Attributes()
	// Sources are taken from the map's folder, /maps, now.
	equal(t, "urls", strs(t, a, keyURLs), []string{"/src/explode.js", "/src/app.js", ""})
	equal(t, "functions", strs(t, a, keyFunctions), []string{"explode", "HTMLButtonElement.handleClick", "Array.forEach"})
}

func TestAnInlineSourceMapIsRead(t *testing.T) {
	dir := copySite(t, "//# sourceMappingURL=data:application/json;charset=utf-8;base64,BASE64")
	if err := os.Remove(filepath.Join(dir, "maps/app.min.js.map")); err != nil {
		t.Fatal(err)
	}
	a := run(t, folderConfig(dir), span(t, "https://shop.example")).Attributes()
	equal(t, "lines", strs(t, a, keyLines), []string{"4", "8", "0"})
	equal(t, "functions", strs(t, a, keyFunctions), []string{"explode", "HTMLButtonElement.handleClick", "Array.forEach"})
}

func TestAFrameURLCannotClimbOutOfTheFolder(t *testing.T) {
	dir := t.TempDir()
	inner := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(inner, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	mapBytes, _ := os.ReadFile(filepath.Join(site, "assets/app.min.js.map"))
	// A map beside the folder, where "/../app.min.js" would lead.
	if err := os.WriteFile(filepath.Join(dir, "app.min.js.map"), mapBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	f := frame{url: "http://h/%2e%2e/app.min.js", line: 1, column: 40, function: "n"}
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	writeFrames(sp.Attributes(), []frame{f})
	a := run(t, folderConfig(inner), td).Attributes()
	equal(t, "urls", strs(t, a, keyURLs), []string{f.url})
	if v, _ := a.Get(keyFailed); !v.Bool() {
		t.Error("a map outside the folder was read")
	}
}

// serve serves the fixture's site over HTTP, counting requests by path.
func serve(t *testing.T) (*httptest.Server, map[string]*atomic.Int32) {
	t.Helper()
	counts := map[string]*atomic.Int32{}
	for _, p := range []string{"/maps/assets/app.min.js", "/maps/assets/app.min.js.map", "/maps/vendor/plain.js", "/maps/vendor/plain.js.map", "/maps/slow.js.map", "/maps/slow.js"} {
		counts[p] = new(atomic.Int32)
	}
	files := http.StripPrefix("/maps", http.FileServer(http.Dir(site)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := counts[r.URL.Path]; ok {
			c.Add(1)
		}
		if strings.HasPrefix(r.URL.Path, "/maps/slow.js") {
			time.Sleep(2 * time.Second)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, counts
}

func TestMapsAreFetchedFromAURLPrefixAndCached(t *testing.T) {
	srv, counts := serve(t)
	cfg := createDefaultConfig()
	cfg.URL = srv.URL + "/maps/"
	plain := frame{url: "https://shop.example/vendor/plain.js", line: 1, column: 1, function: "p"}
	s := newSymbolicator(cfg, zap.NewNop())
	for i := 0; i < 3; i++ {
		td := span(t, "https://shop.example", plain)
		if _, err := s.processTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		a := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		equal(t, "functions", strs(t, a, keyFunctions), []string{"explode", "HTMLButtonElement.handleClick", "Array.forEach", "p"})
		equal(t, "urls", strs(t, a, keyURLs), []string{"/src/explode.js", "/src/app.js", "", plain.url})
		if e := str(t, a, keyError); !strings.Contains(e, "404") || !strings.Contains(e, "/maps/vendor/plain.js") {
			t.Errorf("%s = %q", keyError, e)
		}
	}
	// Three spans, one fetch of each: found maps and missing ones are kept.
	for _, p := range []string{"/maps/assets/app.min.js.map", "/maps/vendor/plain.js.map"} {
		if n := counts[p].Load(); n != 1 {
			t.Errorf("%s fetched %d times", p, n)
		}
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	srv, counts := serve(t)
	cfg := createDefaultConfig()
	cfg.URL = srv.URL + "/maps"
	cfg.CacheSize = 1
	s := newSymbolicator(cfg, zap.NewNop())
	plain := frame{url: "https://shop.example/vendor/plain.js", line: 1, column: 1, function: "p"}
	for i := 0; i < 2; i++ {
		// Two scripts per span, one place in the cache: each evicts the other.
		if _, err := s.processTraces(context.Background(), span(t, "https://shop.example", plain)); err != nil {
			t.Fatal(err)
		}
	}
	if n := counts["/maps/assets/app.min.js.map"].Load(); n != 2 {
		t.Errorf("app.min.js.map fetched %d times, want 2", n)
	}
	if len(s.store.items) != 1 || s.store.order.Len() != 1 {
		t.Errorf("%d maps cached", len(s.store.items))
	}
}

func TestAFetchGivesUpAfterTheTimeout(t *testing.T) {
	srv, _ := serve(t)
	cfg := createDefaultConfig()
	cfg.URL = srv.URL + "/maps/"
	cfg.Timeout = 200 * time.Millisecond
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	writeFrames(sp.Attributes(), []frame{{url: "https://shop.example/slow.js", line: 1, column: 1}})
	start := time.Now()
	a := run(t, cfg, td).Attributes()
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("took %v", took)
	}
	if e := str(t, a, keyError); !strings.Contains(e, "Timeout") && !strings.Contains(e, "deadline") {
		t.Errorf("%s = %q", keyError, e)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{
		{Timeout: time.Second, CacheSize: 0},
		{Timeout: 0, CacheSize: 1},
		{Timeout: time.Second, CacheSize: 1, URL: "ftp://maps"},
		{Timeout: time.Second, CacheSize: 1, URL: "maps.internal/x"},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	ok := createDefaultConfig()
	ok.URL = "https://maps.internal/site/"
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func TestDeclarations(t *testing.T) {
	code := `function a(b){let a=1}var c=function(){};d=(e)=>e;f==g;h.i=1;function  j (){}`
	for ident, want := range map[string]int{"a": 9, "c": strings.Index(code, "c="), "d": strings.Index(code, "d="), "f": -1, "i": -1, "j": strings.Index(code, "j (")} {
		// "a" is found as the function, not the later local: the local
		// comes after the position searched up to.
		upTo := len(code)
		if ident == "a" {
			upTo = strings.Index(code, "let")
		}
		if got := declaration(code[:upTo], ident); got != want {
			t.Errorf("%s: %d, want %d", ident, got, want)
		}
	}
}

func TestWithOnlyTheMapNamesComeFromTheOriginalSource(t *testing.T) {
	// A folder with the map and no script: the declaration cannot be
	// looked up in the minified code, so the original source is read.
	dir := t.TempDir()
	mapBytes, err := os.ReadFile(filepath.Join(site, "assets/app.min.js.map"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "assets/app.min.js.map"), mapBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	a := run(t, folderConfig(dir), span(t, "https://shop.example")).Attributes()
	equal(t, "functions", strs(t, a, keyFunctions), []string{"explode", "HTMLButtonElement.handleClick", "Array.forEach"})
	equal(t, "lines", strs(t, a, keyLines), []string{"4", "8", "0"})
}

func TestEnclosingNames(t *testing.T) {
	src := strings.Join([]string{
		"export function explode(reason) {",     // 1
		"  throw new Error(reason);",            // 2
		"}",                                     // 3
		"const onClick = async (e) => {",        // 4
		"  if (e) {",                            // 5
		"    go(e);",                            // 6
		"  }",                                   // 7
		"};",                                    // 8
		"class Cart {",                          // 9
		"  static total(items) {",               // 10
		"    return items.map((i) => i.price);", // 11
		"  }",                                   // 12
		"}",                                     // 13
		"obj = { save: function () { x(); } };", // 14
	}, "\n")
	for _, c := range []struct {
		line, column int
		want         string
	}{
		{2, 2, "explode"},
		{6, 4, "onClick"},
		{11, 4, "total"},
		{14, 29, "save"},
		{1, 0, ""},
	} {
		if got := enclosingName(src, c.line, c.column); got != c.want {
			t.Errorf("%d:%d: %q, want %q", c.line, c.column, got, c.want)
		}
	}
}

func TestAnExceptionEventWithItsOwnFramesIsMappedToo(t *testing.T) {
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	ev := sp.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr(keyType, "Error")
	ev.Attributes().PutStr(keyMessage, "m")
	writeFrames(ev.Attributes(), []frame{{url: "http://localhost:8080/assets/app.min.js", line: 1, column: col(t, "new Error"), function: "n"}})
	other := sp.Events().AppendEmpty()
	other.SetName("log")
	writeFrames(other.Attributes(), []frame{{url: "http://localhost:8080/assets/app.min.js", line: 1, column: col(t, "new Error"), function: "n"}})
	out := run(t, folderConfig(site), td)
	a := out.Events().At(0).Attributes()
	equal(t, "functions", strs(t, a, keyFunctions), []string{"explode"})
	if s := str(t, a, keyStack); s != "Error: m\n    at explode (/src/explode.js:4:11)" {
		t.Errorf("stack: %q", s)
	}
	equal(t, "other event", strs(t, out.Events().At(1).Attributes(), keyFunctions), []string{"n"})
	if _, has := out.Attributes().Get(keyFailed); has {
		t.Error("the span, which has no frames, was marked")
	}
}
