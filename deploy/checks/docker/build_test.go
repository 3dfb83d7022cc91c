package docker

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
)

// TestDockerfileBuildStep runs the Dockerfile's own `go build` step here
// (no Docker engine needed): the command is taken from the RUN instruction,
// so a broken flag, a wrong package path or an -X that names no variable
// fails this test, not the first real image build.
func TestDockerfileBuildStep(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips building the binary")
	}
	df, _, err := parseDockerfile(repo.Read(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, st := range df.stages {
		for _, c := range st.Commands {
			if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
				script = strings.Join(r.CmdLine, " ")
			}
		}
	}
	if script == "" {
		t.Fatal("no RUN … go build in the Dockerfile")
	}
	out := filepath.Join(t.TempDir(), "taskd")
	if !strings.Contains(script, "-o /out/taskd") {
		t.Fatalf("the build step must write /out/taskd (the runtime stage copies it): %s", script)
	}
	script = strings.Replace(script, "-o /out/taskd", "-o "+out, 1)
	const version = "check-0.0.0-dockerfile"
	cmd := exec.Command("bash", "-euc", script)
	cmd.Dir = repo.Root(t)
	cmd.Env = append(os.Environ(), "GOWORK=off", "VERSION="+version, "TARGETOS=linux", "TARGETARCH="+goarch())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build step fails here:\n%s\n%s", script, b)
	}

	// Static: no program interpreter, no shared libraries.
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter: not static (is CGO_ENABLED=0 applied?)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -ldflags -s missing")
	}

	// Build settings as the binary records them (with -trimpath, Go leaves
	// -ldflags out; the version check below covers -X).
	info, err := exec.Command("go", "version", "-m", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"build\tCGO_ENABLED=0", "build\t-trimpath=true"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("go version -m: %q missing:\n%s", want, info)
		}
	}

	// The injected version reaches the program (an -X naming no variable is
	// silently ignored by the linker).
	v, err := exec.Command(out, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("taskd version: %v\n%s", err, v)
	}
	if !regexp.MustCompile(`\b` + regexp.QuoteMeta(version) + `\b`).Match(v) {
		t.Errorf("taskd version printed %q, want the injected %q", strings.TrimSpace(string(v)), version)
	}
}

func goarch() string {
	out, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		return "amd64"
	}
	return strings.TrimSpace(string(out))
}
