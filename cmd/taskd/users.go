package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.uber.org/fx"

	identityapp "github.com/taskd/taskd/modules/identity/app"
	identitycommand "github.com/taskd/taskd/modules/identity/app/command"
)

// promote is `taskd users promote EMAIL ROLE`: it builds the application
// without any port and runs the ChangeRole command.
func promote(ctx context.Context, cfg Config, logger *slog.Logger, email, role string, out io.Writer) error {
	var app identityapp.Application
	fxApp := fx.New(append(coreOptions(cfg, logger), fx.Populate(&app), fx.NopLogger)...)
	if err := fxApp.Err(); err != nil {
		return err
	}
	if err := fxApp.Start(ctx); err != nil {
		return err
	}
	defer fxApp.Stop(context.Background())
	if err := app.Commands.ChangeRole.Handle(ctx, identitycommand.ChangeRole{Email: email, Role: role}); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is now %s\n", email, role)
	return nil
}
