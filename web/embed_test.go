package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Keep in step with scripts/source-hash.mjs.
var (
	sourceFiles = []string{"index.html", "package.json", "package-lock.json", "vite.config.js"}
	sourceDirs  = []string{"src", "public", "scripts"}
)

// sourceHash is the fingerprint of everything the build reads (see
// scripts/source-hash.mjs): paths sorted bytewise, each hashed as
// "path\nlen\n" + content (CRLF → LF) + "\n".
func sourceHash(t *testing.T) string {
	t.Helper()
	files := append([]string(nil), sourceFiles...)
	for _, d := range sourceDirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			files = append(files, filepath.ToSlash(p))
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", d, err)
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		io.WriteString(h, f+"\n"+strconv.Itoa(len(b))+"\n")
		h.Write(b)
		io.WriteString(h, "\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestCommittedBuildMatchesSources(t *testing.T) {
	stamp, err := os.ReadFile("dist/.source-hash")
	if err != nil {
		t.Fatalf("web/dist has no build stamp (%v): run `npm ci && npm run build` in web/", err)
	}
	want := sourceHash(t)
	if got := strings.TrimSpace(string(stamp)); got != want {
		t.Fatalf("web/dist is stale: it was built from sources %s, the sources are now %s.\n"+
			"Run `npm ci && npm run build` in web/ and commit web/dist.", got[:12], want[:12])
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	srcAttr    = regexp.MustCompile(`(?i)\bsrc\s*=\s*"([^"]+)"`)
	preloadTag = regexp.MustCompile(`(?i)<link\b[^>]*rel\s*=\s*"modulepreload"[^>]*href\s*=\s*"([^"]+)"`)
	urlAttr    = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]+)"`)
	cssURL     = regexp.MustCompile(`(?i)(?:url\(\s*['"]?|@import\s+['"])((?:https?:)?//[^'")\s]+)`)
)

// budget is the most compressed JavaScript the first load may fetch.
const budget = 200 * 1024

// TestFirstLoadJavaScriptBudget gzips every script index.html loads (and the
// modules it preloads) and holds the sum to the budget. The reports page and
// its chart library are a lazy chunk and do not count.
func TestFirstLoadJavaScriptBudget(t *testing.T) {
	index, err := fs.ReadFile(Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, m := range scriptTag.FindAllStringSubmatch(string(index), -1) {
		if s := srcAttr.FindStringSubmatch(m[1]); s != nil {
			urls = append(urls, s[1])
		}
	}
	for _, m := range preloadTag.FindAllStringSubmatch(string(index), -1) {
		urls = append(urls, m[1])
	}
	if len(urls) < 2 {
		t.Fatalf("index.html loads %d scripts; expected config.js and the app entry", len(urls))
	}
	total := 0
	for _, u := range urls {
		b, err := fs.ReadFile(Assets(), strings.TrimPrefix(u, "/"))
		if err != nil {
			t.Fatalf("index.html loads %s, which is not in dist: %v", u, err)
		}
		n := gzipLen(t, b)
		t.Logf("%-40s %7d bytes, %6d gzipped", u, len(b), n)
		total += n
	}
	all := 0
	_ = fs.WalkDir(Assets(), "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".js") {
			b, _ := fs.ReadFile(Assets(), p)
			all += gzipLen(t, b)
		}
		return err
	})
	t.Logf("first load: %d bytes of gzipped JavaScript (budget %d); all chunks: %d", total, budget, all)
	if total > budget {
		t.Fatalf("first load fetches %d bytes of gzipped JavaScript, over the %d budget", total, budget)
	}
}

func gzipLen(t *testing.T, b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// TestNoInlineScriptsNoOtherHosts: the CSP (script-src 'self') and "no
// request to any host but taskd" hold for the built files.
func TestNoInlineScriptsNoOtherHosts(t *testing.T) {
	index, err := fs.ReadFile(Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range scriptTag.FindAllStringSubmatch(string(index), -1) {
		if strings.TrimSpace(m[2]) != "" || srcAttr.FindStringSubmatch(m[1]) == nil {
			t.Errorf("inline script in index.html: %q", m[0])
		}
	}
	if regexp.MustCompile(`(?i)<style\b|\sstyle\s*=|\son[a-z]+\s*=`).Match(index) {
		t.Error("index.html has inline styles or event handler attributes")
	}
	for _, m := range urlAttr.FindAllStringSubmatch(string(index), -1) {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("index.html refers to %q: only same-origin absolute paths are allowed", m[1])
		}
	}
	_ = fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".css") {
			return err
		}
		b, _ := fs.ReadFile(Assets(), p)
		for _, m := range cssURL.FindAllStringSubmatch(string(b), -1) {
			t.Errorf("%s loads %s from another host", p, m[1])
		}
		return nil
	})
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	h := Handler()
	var asset string
	_ = fs.WalkDir(Assets(), "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && asset == "" && strings.HasSuffix(p, ".js") {
			asset = "/" + p
		}
		return err
	})

	t.Run("index with security headers", func(t *testing.T) {
		w := get(t, h, "GET", "/", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `<div id="app">`) {
			t.Fatalf("GET / = %d %q", w.Code, w.Body.String())
		}
		for k, want := range map[string]string{
			"Content-Security-Policy": ContentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-cache",
		} {
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("Content-Type = %q", w.Header().Get("Content-Type"))
		}
	})
	t.Run("SPA fallback", func(t *testing.T) {
		for _, p := range []string{"/tasks/42", "/reports/team", "/inbox?x=1"} {
			w := get(t, h, "GET", p, nil)
			if w.Code != 200 || !strings.Contains(w.Body.String(), `<div id="app">`) {
				t.Errorf("GET %s = %d", p, w.Code)
			}
		}
	})
	t.Run("missing files and API paths are 404", func(t *testing.T) {
		for _, p := range []string{"/assets/nope.js", "/favicon.ico", "/README.md", "/.source-hash"} {
			if w := get(t, h, "GET", p, nil); w.Code != 404 {
				t.Errorf("GET %s = %d, want 404", p, w.Code)
			}
		}
		w := get(t, h, "GET", "/api/nope", nil)
		if w.Code != 404 || !strings.Contains(w.Body.String(), `"code":"not_found"`) {
			t.Errorf("GET /api/nope = %d %s", w.Code, w.Body.String())
		}
	})
	t.Run("hashed assets are immutable and gzipped on request", func(t *testing.T) {
		if asset == "" {
			t.Fatal("no JavaScript under dist/assets")
		}
		plain := get(t, h, "GET", asset, nil)
		if plain.Code != 200 || !strings.Contains(plain.Header().Get("Cache-Control"), "immutable") {
			t.Fatalf("GET %s = %d, Cache-Control %q", asset, plain.Code, plain.Header().Get("Cache-Control"))
		}
		if ct := plain.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
			t.Errorf("Content-Type = %q", ct)
		}
		gz := get(t, h, "GET", asset, map[string]string{"Accept-Encoding": "br, gzip"})
		if gz.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("no gzip for Accept-Encoding: gzip")
		}
		zr, err := gzip.NewReader(gz.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if !bytes.Equal(body, plain.Body.Bytes()) {
			t.Error("gzipped body differs from the plain one")
		}
		nm := get(t, h, "GET", asset, map[string]string{"If-None-Match": plain.Header().Get("ETag")})
		if nm.Code != http.StatusNotModified {
			t.Errorf("If-None-Match = %d, want 304", nm.Code)
		}
	})
	t.Run("only GET and HEAD", func(t *testing.T) {
		if w := get(t, h, "POST", "/", nil); w.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST / = %d", w.Code)
		}
		if w := get(t, h, "HEAD", "/", nil); w.Code != 200 || w.Body.Len() != 0 {
			t.Errorf("HEAD / = %d with %d bytes", w.Code, w.Body.Len())
		}
	})
	t.Run("no way out of dist", func(t *testing.T) {
		for _, p := range []string{"/../go.mod", "/assets/../../embed.go", "/%2e%2e/embed.go"} {
			w := get(t, h, "GET", p, nil)
			if strings.Contains(w.Body.String(), "package web") || strings.Contains(w.Body.String(), "module github.com") {
				t.Errorf("GET %s leaked a file outside dist", p)
			}
		}
	})
	t.Run("Assets hides the dist README", func(t *testing.T) {
		if _, err := fs.Stat(Assets(), "README.md"); err == nil {
			t.Error("README.md is visible")
		}
		entries, err := fs.ReadDir(Assets(), ".")
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		for _, want := range []string{"index.html", "config.js", "assets"} {
			if !strings.Contains(strings.Join(names, " "), want) {
				t.Errorf("dist has %v, missing %s", names, want)
			}
		}
	})
}
