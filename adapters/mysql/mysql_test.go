package mysql_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskd/taskd/adapters/mysql"
)

func TestConfigForcesWhatTaskdNeeds(t *testing.T) {
	t.Parallel()
	cfg, err := mysql.Config("app:s3cret@tcp(db:3306)/taskd?multiStatements=true&parseTime=false&loc=Local&charset=latin1&interpolateParams=false")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ParseTime || cfg.Loc != time.UTC || cfg.MultiStatements || !cfg.InterpolateParams || cfg.Collation != "utf8mb4_unicode_ci" {
		t.Fatalf("not forced: %+v", cfg)
	}
	if _, ok := cfg.Params["charset"]; ok {
		t.Error("charset param kept")
	}
	if cfg.Params["time_zone"] != "'+00:00'" || !strings.Contains(cfg.Params["sql_mode"], "STRICT_ALL_TABLES") {
		t.Errorf("session params: %v", cfg.Params)
	}
	if cfg.Timeout == 0 || cfg.ReadTimeout == 0 || cfg.WriteTimeout == 0 {
		t.Errorf("timeouts not set: %v %v %v", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout)
	}
	cfg, err = mysql.Config("app:pw@tcp(db:3306)/taskd?readTimeout=7s&sql_mode=%27ANSI%27")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReadTimeout != 7*time.Second || cfg.Params["sql_mode"] != "'ANSI'" {
		t.Errorf("explicit settings overridden: %v %v", cfg.ReadTimeout, cfg.Params)
	}
}

func TestBadInputNeverEchoesThePassword(t *testing.T) {
	t.Parallel()
	_, err := mysql.Config("app:s3cret@tcp(db:3306)taskd")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
	if _, err := mysql.Open(t.Context(), "app:s3cret@tcp(db:3306)/"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("open without database: %v", err)
	}
	if err := mysql.CreateDatabase(t.Context(), "root@tcp(127.0.0.1:1)/", "bad-name; DROP"); err == nil || !strings.Contains(err.Error(), "invalid database name") {
		t.Fatalf("bad name: %v", err)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	dsn, err := mysql.WithDatabase("root@tcp(127.0.0.1:3306)/", "taskd_x")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mysql.Config(dsn)
	if err != nil || cfg.DBName != "taskd_x" || cfg.User != "root" {
		t.Fatalf("%v %+v", err, cfg)
	}
}
