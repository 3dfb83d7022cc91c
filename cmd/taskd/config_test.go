package main

import (
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) envSource {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaultsAreEmbedded(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || !c.Embedded() || c.Events != "embedded" ||
		c.AnalyticsStore != "embedded" || c.Email != "none" || c.SMS != "none" || !c.AutoMigrate ||
		c.Env != "taskd" || c.PublicURL != "http://127.0.0.1:8080" || c.AccessTTL != 15*time.Minute {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestLoadConfigCloudModeIsShorthandAndExplicitWins(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{
		"TASKD_MODE": "cloud", "TASKD_SMS": "none", "TASKD_MYSQL_DSN": "u:p@tcp(db:3306)/taskd",
		"TASKD_JWT_SECRET": strings.Repeat("k", 32),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Events != "aws" || c.AnalyticsStore != "dynamodb" || c.Email != "ses" || c.SMS != "none" || c.AutoMigrate {
		t.Fatalf("cloud mode: %+v", c)
	}
}

func TestLoadConfigReportsEveryErrorTogether(t *testing.T) {
	_, err := LoadConfig(envOf(map[string]string{
		"TASKD_ADDR":             "nonsense",
		"TASKD_EVENTS":           "kafka",
		"TASKD_AUTO_MIGRATE":     "perhaps",
		"TASKD_ACCESS_TOKEN_TTL": "soon",
		"TASKD_EMAIL":            "smtp",
		"TASKD_MYSQL_DSN":        "root@tcp(127.0.0.1:3306)/x",
		"TASKD_ENV":              "bad name!",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"TASKD_ADDR", "TASKD_EVENTS", "TASKD_AUTO_MIGRATE", "TASKD_ACCESS_TOKEN_TTL",
		"TASKD_SMTP_HOST", "TASKD_JWT_SECRET", "TASKD_ENV"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}
