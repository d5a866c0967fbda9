package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/web"
)

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage the web console's users"}
	cmd.AddCommand(a.userAddCommand(), a.userDisableCommand())
	return cmd
}

func (a *app) userAddCommand() *cobra.Command {
	var (
		login, name   string
		roles         []string
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "add --login LOGIN --role ROLE[,ROLE] [--name NAME] [--password-stdin]",
		Short: "Create a console user; the password is generated and printed unless given on stdin",
		Long: `Create a user of the web console. Roles add up:

  viewer    reads campaigns, previews and tracking (every user can)
  operator  creates campaigns, uploads lists, sends tests, starts, pauses, resumes, cancels
  approver  approves campaigns

Give --role operator,approver for both. With --password-stdin the password is the first line
of standard input (at least 12 characters); otherwise one is generated and printed once.
Only an argon2id hash of it is stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rs, err := breach.ParseRoles(roles)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			password, generated := web.NewPassword(), true
			if passwordStdin {
				if password, err = readPassword(cmd.InOrStdin()); err != nil {
					return err
				}
				generated = false
			}
			if err := web.CheckNewPassword(password); err != nil {
				return err
			}
			hash, err := web.HashPassword(password)
			if err != nil {
				return err
			}
			db, err := a.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			u := &breach.User{Login: login, DisplayName: name, Roles: rs}
			if err := db.CreateUser(ctx, u, hash); err != nil {
				return err
			}
			if err := db.Audit(ctx, cliActor().Name, breach.ActionUserCreate, "", map[string]any{"login": u.Login, "roles": u.Roles}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "created user %s (%s) with roles %v\n", u.Login, u.DisplayName, u.Roles)
			if generated {
				fmt.Fprintf(a.stdout, "password (shown once): %s\n", password)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&login, "login", "", "the user's login (letters, digits, '.', '_', '-')")
	cmd.Flags().StringVar(&name, "name", "", "the user's name as the console shows it (default: the login)")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "viewer, operator or approver (repeatable, or comma-separated)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	_ = cmd.MarkFlagRequired("login")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (a *app) userDisableCommand() *cobra.Command {
	var login string
	cmd := &cobra.Command{
		Use:   "disable --login LOGIN",
		Short: "Stop a console user from signing in, and end their sessions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			l, err := breach.ParseLogin(login)
			if err != nil {
				return fmt.Errorf("--login: %w", err)
			}
			db, err := a.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.DisableUser(ctx, l); err != nil {
				return err
			}
			if err := db.Audit(ctx, cliActor().Name, breach.ActionUserDisable, "", map[string]any{"login": l}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "disabled user %s\n", l)
			return nil
		},
	}
	cmd.Flags().StringVar(&login, "login", "", "the user's login")
	_ = cmd.MarkFlagRequired("login")
	return cmd
}

// demoLogin is the console account `breachnotice run` prints; disabled when an administrator
// disabled it (run does not enable it again).
type demoLogin struct {
	login, password string
	disabled        bool
}

// demoUser gives the demo console user "demo" a fresh password, and both the operator and
// approver roles, so that one person can try the whole job on the demo campaign (which needs
// one approver).
func demoUser(ctx context.Context, db *postgres.DB) (demoLogin, error) {
	password := web.NewPassword()
	hash, err := web.HashPassword(password)
	if err != nil {
		return demoLogin{}, err
	}
	u := &breach.User{Login: "demo", DisplayName: "Demo user", Roles: []breach.Role{breach.RoleOperator, breach.RoleApprover}}
	if err := db.ResetUser(ctx, u, hash); err != nil {
		return demoLogin{}, err
	}
	if err := db.Audit(ctx, breach.SystemActor("run").Name, breach.ActionUserReset, "", map[string]any{"login": u.Login, "roles": u.Roles}); err != nil {
		return demoLogin{}, err
	}
	return demoLogin{login: u.Login, password: password, disabled: u.Disabled}, nil
}
