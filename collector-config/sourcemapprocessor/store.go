package sourcemapprocessor

import (
	"bytes"
	"container/list"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-sourcemap/sourcemap"
)

// Bounds a map or script read from disk or the network: browsers send
// frame URLs, so nothing they name may make the Collector read without end.
const maxFileBytes = 64 << 20

// A lookup that found nothing is remembered this long, so a burst of
// errors from a script without a map does not read the folder or fetch the
// URL once per frame; a map deployed later is found after it.
const missTTL = time.Minute

// sourceMap is one script's map, or why there is none.
type sourceMap struct {
	consumer  *sourcemap.Consumer
	path      string // where the map was found, as a URL path
	generated string // the minified script, when it was found
	err       error
	at        time.Time
}

// store finds and keeps the maps, by the path of the script's URL.
type store struct {
	folder string
	base   *url.URL
	client *http.Client

	mu    sync.Mutex
	size  int
	order *list.List // of *list.Element values: keys, most recent first
	items map[string]*list.Element
}

type cacheItem struct {
	key string
	m   *sourceMap
}

func newStore(cfg *Config) *store {
	s := &store{
		folder: cfg.Folder,
		client: &http.Client{Timeout: cfg.Timeout},
		size:   cfg.CacheSize,
		order:  list.New(),
		items:  map[string]*list.Element{},
	}
	if cfg.URL != "" {
		s.base, _ = url.Parse(cfg.URL)
	}
	return s
}

// scriptPath is the cache key and the lookup path for a frame's URL: its
// path, cleaned so no ".." climbs out of the folder or the prefix. The
// host is not part of it: a site's scripts are the same from every origin
// it answers on.
func scriptPath(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("frame URL %q: %w", raw, err)
	}
	p := path.Clean("/" + u.Path)
	if p == "/" {
		return "", fmt.Errorf("frame URL %q names no script", raw)
	}
	return p, nil
}

func (s *store) cached(key string) (*sourceMap, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		return nil, false
	}
	m := el.Value.(*cacheItem).m
	if m.err != nil && time.Since(m.at) > missTTL {
		s.order.Remove(el)
		delete(s.items, key)
		return nil, false
	}
	s.order.MoveToFront(el)
	return m, true
}

func (s *store) put(key string, m *sourceMap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		el.Value.(*cacheItem).m = m
		s.order.MoveToFront(el)
		return
	}
	s.items[key] = s.order.PushFront(&cacheItem{key: key, m: m})
	for s.order.Len() > s.size {
		last := s.order.Back()
		s.order.Remove(last)
		delete(s.items, last.Value.(*cacheItem).key)
	}
}

// get is the map for the script at the frame URL raw, from the cache or
// found anew (two callers may find the same map at once; the later one
// is kept).
func (s *store) get(ctx context.Context, raw string) *sourceMap {
	key, err := scriptPath(raw)
	if err != nil {
		return &sourceMap{err: err, at: time.Now()}
	}
	if m, ok := s.cached(key); ok {
		return m
	}
	m := s.find(ctx, key)
	m.at = time.Now()
	s.put(key, m)
	return m
}

// fetcher reads one path under the folder or the URL prefix.
type fetcher func(ctx context.Context, p string) ([]byte, error)

func (s *store) find(ctx context.Context, key string) *sourceMap {
	var errs []string
	if s.folder != "" {
		m := locate(ctx, key, s.readFile)
		if m.err == nil {
			return m
		}
		errs = append(errs, m.err.Error())
	}
	if s.base != nil {
		m := locate(ctx, key, s.fetch)
		if m.err == nil {
			return m
		}
		errs = append(errs, m.err.Error())
	}
	return &sourceMap{err: errors.New(strings.Join(errs, "; "))}
}

// locate finds the map of the script at p: <p>.map, else the file its
// sourceMappingURL comment names (or holds, as a data: URL).
func locate(ctx context.Context, p string, read fetcher) *sourceMap {
	script, scriptErr := read(ctx, p)
	if b, err := read(ctx, p+".map"); err == nil {
		return parse(p+".map", b, script)
	}
	if scriptErr != nil {
		return &sourceMap{err: fmt.Errorf("no source map for %s (%v)", p, scriptErr)}
	}
	ref := mappingURL(script)
	if ref == "" {
		return &sourceMap{err: fmt.Errorf("no source map for %s (no %s.map, no sourceMappingURL comment)", p, p)}
	}
	if rest, ok := strings.CutPrefix(ref, "data:"); ok {
		meta, data, _ := strings.Cut(rest, ",")
		if !strings.HasSuffix(meta, ";base64") {
			return &sourceMap{err: fmt.Errorf("%s: only base64 data: source maps are read", p)}
		}
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return &sourceMap{err: fmt.Errorf("%s: inline source map: %w", p, err)}
		}
		return parse(p, b, script)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return &sourceMap{err: fmt.Errorf("%s: sourceMappingURL %q: %w", p, ref, err)}
	}
	// Only the path counts, resolved against the script's: the map is
	// looked for where this store looks, never on a host a script names.
	mp := u.Path
	if !path.IsAbs(mp) {
		mp = path.Join(path.Dir(p), mp)
	}
	mp = path.Clean("/" + mp)
	b, err := read(ctx, mp)
	if err != nil {
		return &sourceMap{err: fmt.Errorf("source map %s of %s: %w", mp, p, err)}
	}
	return parse(mp, b, script)
}

func parse(name string, b, script []byte) *sourceMap {
	c, err := sourcemap.Parse("", b)
	if err != nil {
		return &sourceMap{err: fmt.Errorf("source map %s: %w", name, err)}
	}
	return &sourceMap{consumer: c, path: name, generated: string(script)}
}

// mappingURL is the last sourceMappingURL comment of a script.
func mappingURL(script []byte) string {
	for _, marker := range []string{"//# sourceMappingURL=", "//@ sourceMappingURL="} {
		if i := bytes.LastIndex(script, []byte(marker)); i >= 0 {
			rest := script[i+len(marker):]
			if j := bytes.IndexAny(rest, " \t\r\n"); j >= 0 {
				rest = rest[:j]
			}
			return string(rest)
		}
	}
	return ""
}

func (s *store) readFile(_ context.Context, p string) ([]byte, error) {
	name := filepath.Join(s.folder, filepath.FromSlash(strings.TrimPrefix(p, "/")))
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%s not in %s", p, s.folder)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.IsDir() {
		return nil, fmt.Errorf("%s is not a file in %s", p, s.folder)
	}
	return readLimited(f)
}

func (s *store) fetch(ctx context.Context, p string) ([]byte, error) {
	u := *s.base
	u.Path = path.Join(s.base.Path, p)
	u.RawPath = ""
	u.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u.String(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: %s", u.String(), resp.Status)
	}
	return readLimited(resp.Body)
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("larger than %d MiB", maxFileBytes>>20)
	}
	return b, nil
}
