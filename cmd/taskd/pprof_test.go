package main

import (
	"strings"
	"testing"
)

func TestPprofAddrIsOffByDefaultAndLoopbackOnly(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil || c.PprofAddr != "" {
		t.Fatalf("default: %q, %v; want pprof off", c.PprofAddr, err)
	}
	for _, ok := range []string{"127.0.0.1:6060", "localhost:6060", "[::1]:6060", "127.0.0.2:0"} {
		if c, err := LoadConfig(envOf(map[string]string{"TASKD_PPROF_ADDR": ok})); err != nil || c.PprofAddr != ok {
			t.Errorf("TASKD_PPROF_ADDR=%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "10.0.0.1:6060", "6060"} {
		_, err := LoadConfig(envOf(map[string]string{"TASKD_PPROF_ADDR": bad}))
		if err == nil || !strings.Contains(err.Error(), "TASKD_PPROF_ADDR") {
			t.Errorf("TASKD_PPROF_ADDR=%s: %v, want an error naming the variable", bad, err)
		}
	}
}
