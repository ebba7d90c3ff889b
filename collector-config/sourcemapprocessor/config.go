package sourcemapprocessor

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config says where the source maps are. With neither Folder nor URL the
// processor passes spans through untouched.
type Config struct {
	// Folder holds the deployed scripts and their maps, laid out as the
	// site serves them: a frame's URL path /assets/app.js is looked up as
	// <Folder>/assets/app.js.map, else through the sourceMappingURL
	// comment of <Folder>/assets/app.js.
	Folder string `mapstructure:"folder"`

	// URL is a prefix the same paths are fetched under over HTTP, when the
	// folder has no map for a frame (https://maps.internal/site/ looks up
	// /assets/app.js as https://maps.internal/site/assets/app.js.map).
	URL string `mapstructure:"url"`

	// Timeout bounds one HTTP fetch.
	Timeout time.Duration `mapstructure:"timeout"`

	// CacheSize is how many scripts' maps (or their absence) are kept
	// parsed, least recently used dropped first.
	CacheSize int `mapstructure:"cache_size"`
}

func createDefaultConfig() *Config {
	return &Config{Timeout: 5 * time.Second, CacheSize: 128}
}

// Validate rejects settings the processor could not work with.
func (c *Config) Validate() error {
	if c.CacheSize < 1 {
		return errors.New("cache_size must be at least 1")
	}
	if c.Timeout <= 0 {
		return errors.New("timeout must be positive")
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q is not an http(s) URL", c.URL)
		}
	}
	return nil
}

func (c *Config) enabled() bool {
	return c.Folder != "" || c.URL != ""
}
