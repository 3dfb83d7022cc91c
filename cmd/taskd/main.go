// Command taskd is the composition root: it reads the configuration, picks
// the adapters it names, and wires modules and ports with go.uber.org/fx.
//
//	taskd [serve]                  run the API and the workers (embedded by default)
//	taskd migrate                  apply database migrations and exit
//	taskd users promote EMAIL ROLE set a user's role (member, manager, admin)
//	taskd dlq list|replay …        show or replay dead letters (docs/runbook.md)
//	taskd version                  print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, osEnv); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "taskd:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + "\n" + usage }

const usage = `usage:
  taskd [serve [--role=api|worker|all]]   run taskd (embedded SQLite unless TASKD_MYSQL_DSN is set)
  taskd migrate                           apply database migrations
  taskd users promote EMAIL ROLE          set a user's role: member, manager or admin
  taskd dlq list [--queue Q] [--json]     show dead letters
  taskd dlq replay [--queue Q] [--id ID]  move dead letters back to their queue
  taskd analytics rebuild [--quiet]       rebuild the report read models from the event log
  taskd version                           print the version
configuration: environment variables, see README.md`

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env envSource) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "taskd", version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	cfg, err := LoadConfig(env)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		role := fs.String("role", "all", "api, worker or all")
		if err := fs.Parse(args); err != nil {
			return usageError{err.Error()}
		}
		r, err := parseRole(*role)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, r, logger)
	case "migrate":
		return migrate(ctx, cfg, logger, stdout)
	case "analytics":
		return analyticsCommand(ctx, cfg, logger, args, stdout)
	case "users":
		if len(args) != 3 || args[0] != "promote" {
			return usageError{"taskd users promote EMAIL ROLE"}
		}
		return promote(ctx, cfg, logger, args[1], args[2], stdout)
	case "dlq":
		return runDLQ(ctx, cfg, logger, args, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Role says which parts of taskd this process runs.
type Role string

const (
	RoleAll    Role = "all"
	RoleAPI    Role = "api"
	RoleWorker Role = "worker"
)

func parseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleAll, RoleAPI, RoleWorker:
		return Role(s), nil
	}
	return "", usageError{fmt.Sprintf("--role must be api, worker or all (got %q)", s)}
}

func (r Role) serves() bool { return r == RoleAll || r == RoleAPI }
func (r Role) works() bool  { return r == RoleAll || r == RoleWorker }
