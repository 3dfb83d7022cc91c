// Package repo locates files of the taskd repository for the checks.
package repo

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	rootOnce sync.Once
	root     string
)

// Root is the repository root: the nearest parent directory whose go.mod
// declares module github.com/taskd/taskd.
func Root(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			return
		}
		for {
			b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && strings.Contains(string(b), "module github.com/taskd/taskd\n") {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	})
	if root == "" {
		t.Fatal("cannot find the taskd repository root (go.mod of github.com/taskd/taskd) above the working directory")
	}
	return root
}

// Path joins elem to the repository root.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Root(t)}, elem...)...)
}

// Read returns the content of a repository file, failing the test when it
// cannot be read.
func Read(t testing.TB, elem ...string) []byte {
	t.Helper()
	p := Path(t, elem...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return b
}
