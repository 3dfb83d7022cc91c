package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"

	"go.uber.org/fx"

	"github.com/taskd/taskd/adapters/mysql"
	"github.com/taskd/taskd/adapters/sqlite"
	"github.com/taskd/taskd/adapters/sqlstore"
	identitycommand "github.com/taskd/taskd/modules/identity/app/command"
	identityquery "github.com/taskd/taskd/modules/identity/app/query"
	"github.com/taskd/taskd/modules/identity/domain/user"
	"github.com/taskd/taskd/modules/kernel/sys"
	"github.com/taskd/taskd/modules/tasks"
	"github.com/taskd/taskd/modules/tasks/domain/task"
)

// openStore opens the write store the configuration names — SQLite in the
// data dir, or MySQL — and applies migrations when allowed. Without
// auto-migration a database behind the binary's schema is an error.
func openStore(ctx context.Context, cfg Config, logger *slog.Logger, migrate bool) (*sqlstore.DB, error) {
	var (
		db      *sql.DB
		dialect sqlstore.Dialect
		err     error
	)
	if cfg.Embedded() {
		db, err = sqlite.OpenInDir(ctx, cfg.DataDir)
		dialect = sqlstore.SQLite
	} else {
		db, err = mysql.Open(ctx, cfg.MySQLDSN)
		dialect = sqlstore.MySQL
	}
	if err != nil {
		return nil, fmt.Errorf("opening the %s database: %w", dialect.Name, err)
	}
	if migrate {
		applied, err := sqlstore.Migrate(ctx, db, dialect)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("migrating: %w", err)
		}
		if len(applied) > 0 {
			logger.Info("applied migrations", slog.Any("versions", applied), slog.String("database", dialect.Name))
		}
	} else {
		pending, err := sqlstore.PendingMigrations(ctx, db, dialect)
		if err != nil {
			db.Close()
			return nil, err
		}
		if len(pending) > 0 {
			db.Close()
			return nil, fmt.Errorf("the database lacks migrations %v: run `taskd migrate` (or set TASKD_AUTO_MIGRATE=true)", pending)
		}
	}
	return withEventsOutbox(cfg, sqlstore.New(db, dialect)), nil
}

// storageModule provides the store and every repository and read model on it.
func storageModule(cfg Config) fx.Option {
	return fx.Module("storage",
		fx.Provide(
			func(lc fx.Lifecycle, logger *slog.Logger) (*sqlstore.DB, error) {
				db, err := openStore(context.Background(), cfg, logger, cfg.AutoMigrate)
				if err != nil {
					return nil, err
				}
				lc.Append(fx.StopHook(db.SQL.Close))
				return db, nil
			},
			func(db *sqlstore.DB, newID sys.IDGenerator) task.Repository {
				return sqlstore.NewTaskRepository(db, newID)
			},
			func(db *sqlstore.DB) tasks.ReadModel { return sqlstore.NewTasksReadModel(db) },
			func(db *sqlstore.DB, newID sys.IDGenerator) user.Repository {
				return sqlstore.NewUserRepository(db, newID)
			},
			func(db *sqlstore.DB) user.RefreshTokenStore { return sqlstore.NewRefreshTokenStore(db) },
			func(db *sqlstore.DB) identityquery.UsersReadModel { return sqlstore.NewUsersReadModel(db) },
			func(db *sqlstore.DB) identitycommand.Transactor { return db },
			func(db *sqlstore.DB) *sqlstore.IdempotencyStore { return sqlstore.NewIdempotencyStore(db) },
		),
	)
}

// migrate is `taskd migrate`.
func migrate(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer) error {
	db, err := openStore(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer db.SQL.Close()
	fmt.Fprintf(out, "%s database is up to date\n", db.Dialect.Name)
	return nil
}
