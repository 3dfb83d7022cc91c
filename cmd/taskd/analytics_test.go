package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestAnalyticsConfig(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(e2eEnv(map[string]string{}))
	if err != nil || cfg.Analytics.ReportTZ != "UTC" || cfg.Analytics.Location != time.UTC {
		t.Fatalf("default: %+v, %v", cfg.Analytics, err)
	}
	cfg, err = LoadConfig(e2eEnv(map[string]string{"TASKD_REPORT_TZ": "Asia/Seoul"}))
	if err != nil || cfg.Analytics.Location.String() != "Asia/Seoul" {
		t.Fatalf("Asia/Seoul: %+v, %v", cfg.Analytics, err)
	}
	for _, bad := range []string{"Mars/Olympus", "Local", "+09:00"} {
		_, err := LoadConfig(e2eEnv(map[string]string{"TASKD_REPORT_TZ": bad}))
		if err == nil || !strings.Contains(err.Error(), "TASKD_REPORT_TZ") {
			t.Errorf("TASKD_REPORT_TZ=%s: %v", bad, err)
		}
	}
}

func TestAnalyticsCommandUsage(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(e2eEnv(map[string]string{"TASKD_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, args := range [][]string{nil, {"rebuilt"}, {"rebuild", "--fast"}} {
		var u usageError
		if err := analyticsCommand(context.Background(), cfg, logger, args, io.Discard); !errors.As(err, &u) {
			t.Errorf("taskd analytics %v: %v, want a usage error", args, err)
		}
	}
	// An empty database: nothing to rebuild, a final count all the same.
	var out bytes.Buffer
	if err := analyticsCommand(context.Background(), cfg, logger, []string{"rebuild", "--quiet"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "from 0 task events") || strings.Contains(out.String(), "[") {
		t.Errorf("quiet rebuild of nothing: %q", out.String())
	}
}
