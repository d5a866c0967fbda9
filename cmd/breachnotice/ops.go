package main

import (
	"context"
	"fmt"
	"os/user"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// operations connects to the database and returns the operations on it, for one command;
// done closes the connection.
func (a *app) operations(ctx context.Context) (ops *operation.Service, done func(), err error) {
	db, err := a.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	if ops, err = a.newOperations(db, nil, nil); err != nil {
		db.Close()
		return nil, nil, err
	}
	return ops, db.Close, nil
}

// newOperations returns the operations on db, rendering with rd (the configured templates when
// nil) and sending test notices with tests (none when nil). The operations that key or check a
// record with the secret first make sure it is the database's (operation.SecretCheck); the
// command line's demo secret never binds a database.
func (a *app) newOperations(db *postgres.DB, rd *notice.Renderer, tests operation.TestSender) (*operation.Service, error) {
	secret, err := a.secret()
	if err != nil {
		return nil, err
	}
	if rd == nil {
		if rd, err = a.renderer(); err != nil {
			return nil, err
		}
	}
	im, err := importer.New(db)
	if err != nil {
		return nil, err
	}
	im.Metrics = a.metrics
	ops := &operation.Service{Store: db, Importer: im, Renderer: rd, Tests: tests, Secret: []byte(secret),
		TwoPersonAlways: a.cfg.RequireTwoPerson, Log: a.log}
	ops.SecretCheck.Binder, ops.SecretCheck.By, ops.SecretCheck.MayBind = db, a.process, a.cfg.Secret != ""
	if a.cfg.Secret == "" {
		ops.SecretCheck.Hint = fmt.Sprintf("this command has no BREACHNOTICE_SECRET: set it to the deployment's (a new deployment makes one with openssl rand -hex 32). Only the database of a `run` takes the demo secret run keeps in its state directory, here %s (BREACHNOTICE_STATE_DIR)",
			demoSecretPath(a.cfg.StateDir))
	}
	return ops, nil
}

// cliActor is the person at the terminal, named by their system account.
func cliActor() breach.Actor {
	if u, err := user.Current(); err == nil {
		return breach.CLIActor(u.Username)
	}
	return breach.CLIActor("")
}

// withOps returns a command's RunE that opens the operations, runs fn with them and closes
// them: a command is then only its flags, one operation call and its printing.
func (a *app) withOps(fn func(cmd *cobra.Command, args []string, ops *operation.Service) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ops, done, err := a.operations(cmd.Context())
		if err != nil {
			return err
		}
		defer done()
		return fn(cmd, args, ops)
	}
}
