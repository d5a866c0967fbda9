package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// newToken returns a fresh operator token and the SHA-256 hash under which it is stored. 32
// random bytes make it unguessable; the bn_ prefix makes it recognizable to secret scanners.
func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = "bn_" + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage operator API tokens"}
	var name, login string
	create := &cobra.Command{
		Use:   "create --name NAME [--user LOGIN]",
		Short: "Create an operator token and print it (once: only its hash is stored)",
		Long: `Create an operator token for the HTTP API and print it, once: only its hash is stored.

With --user the token belongs to that console user (breachnotice user add): it acts as the user
("user:LOGIN" in the audit log, as in the console) with the user's roles — viewer reads,
operator changes everything but approvals, approver approves — and stops working as soon as
the user is disabled. Give each person their own bound token: a campaign that needs two people
(approval: two_person) can only be approved by a user, in the console or through a bound token.

Without --user the token acts as "token:NAME" and may use every route, but cannot approve a
campaign that needs two people.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := a.createToken(cmd.Context(), name, login)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, token)
			fmt.Fprintln(a.stderr, "Keep this token: it is shown only once. Use it as: Authorization: Bearer <token>")
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "who or what the token is for (unique)")
	create.Flags().StringVar(&login, "user", "", "the console user the token acts for, with their roles")
	_ = create.MarkFlagRequired("name")
	cmd.AddCommand(create)
	return cmd
}

// createToken creates an operator token named name, bound to the console user login unless
// login is empty, and records who it is for in the audit log.
func (a *app) createToken(ctx context.Context, name, login string) (string, error) {
	db, err := a.openDB(ctx)
	if err != nil {
		return "", err
	}
	defer db.Close()
	token, hash := newToken()
	detail := map[string]any{"name": name}
	if login == "" {
		err = db.CreateToken(ctx, name, hash)
	} else {
		if login, err = breach.ParseLogin(login); err != nil {
			return "", fmt.Errorf("--user: %w", err)
		}
		err = db.CreateUserToken(ctx, name, login, hash)
		detail["user"] = login
	}
	if err != nil {
		return "", err
	}
	if err := db.Audit(ctx, cliActor(), "token.create", "", detail); err != nil {
		return "", err
	}
	return token, nil
}

// rotateToken gives the operator token name a fresh value on behalf of actor (`run` hands out
// a new demo token at every start), audited like any token created.
func rotateToken(ctx context.Context, db *postgres.DB, name, actor string) (string, error) {
	token, hash := newToken()
	if err := db.RotateToken(ctx, name, hash); err != nil {
		return "", err
	}
	if err := db.Audit(ctx, actor, "token.create", "", map[string]any{"name": name, "replaces_earlier": true}); err != nil {
		return "", err
	}
	return token, nil
}
