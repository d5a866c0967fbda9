package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

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
	var name string
	create := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an operator token and print it (once: only its hash is stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := a.createToken(cmd.Context(), name)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, token)
			fmt.Fprintln(a.stderr, "Keep this token: it is shown only once. Use it as: Authorization: Bearer <token>")
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "who or what the token is for (unique)")
	_ = create.MarkFlagRequired("name")
	cmd.AddCommand(create)
	return cmd
}

func (a *app) createToken(ctx context.Context, name string) (string, error) {
	db, err := a.openDB(ctx)
	if err != nil {
		return "", err
	}
	defer db.Close()
	token, hash := newToken()
	if err := db.CreateToken(ctx, name, hash); err != nil {
		return "", err
	}
	if err := db.Audit(ctx, cliActor(), "token.create", "", map[string]any{"name": name}); err != nil {
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
