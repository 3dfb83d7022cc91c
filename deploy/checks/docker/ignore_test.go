package docker

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

type ignoreMatcher struct {
	pm *patternmatcher.PatternMatcher
}

// newIgnoreMatcher reads a .dockerignore the way docker build does.
func newIgnoreMatcher(t *testing.T, r io.Reader) ignoreMatcher {
	t.Helper()
	patterns, err := ignorefile.ReadAll(r)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	return ignoreMatcher{pm}
}

// excluded tells whether path (slash-separated, relative to the context) is
// left out of the build context. Like the context walker, it matches every
// parent directory first and lets the child inherit the parent's result.
func (m ignoreMatcher) excluded(t *testing.T, path string) bool {
	t.Helper()
	parts := strings.Split(path, "/")
	var (
		info patternmatcher.MatchInfo
		ok   bool
		err  error
	)
	for i := range parts {
		p := filepath.FromSlash(strings.Join(parts[:i+1], "/"))
		ok, info, err = m.pm.MatchesUsingParentResults(p, info)
		if err != nil {
			t.Fatalf("match %s: %v", p, err)
		}
	}
	return ok
}

// buildInputs lists the repository files that go build ./cmd/taskd reads:
// Go files and embedded files of every package of the root module it builds.
func buildInputs(t *testing.T) []string {
	t.Helper()
	root := repo.Root(t)
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,Module,GoFiles,EmbedFiles", "./cmd/taskd")
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/taskd: %v", err)
	}
	var files []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			Dir        string
			Module     *struct{ Path string }
			GoFiles    []string
			EmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || p.Module.Path != "github.com/taskd/taskd" {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	if len(files) == 0 {
		t.Fatal("go list found no files of github.com/taskd/taskd behind ./cmd/taskd")
	}
	return files
}
