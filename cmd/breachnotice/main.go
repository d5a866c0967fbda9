// Command breachnotice notifies the customers of a breached company: it imports the list of
// affected customers, sends each a localized notice, and records delivery and opt-out. Each
// subcommand is one role of the system (see the README); this package only parses flags and
// wires the internal packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"syscall"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/config"
	"github.com/breachnotice/breachnotice/internal/metrics"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

func main() {
	// go-redis writes its own lines (a pool failing to dial during an outage) with the
	// standard logger: through slog instead, so that they follow LOG_LEVEL and the format.
	redis.SetLogger(redisLogger{newLogger(os.Stderr, os.Getenv("LOG_LEVEL"))})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdout, os.Stderr, os.Getenv).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "breachnotice:", err)
		os.Exit(1)
	}
}

// app is what every subcommand shares: configuration, output streams and the logger.
type app struct {
	cfg    config.Config
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// metrics are the process's (serve, worker, run with METRICS_ADDR set); nil otherwise.
	metrics *metrics.Metrics
	// fallbackSecret is the command line's secret without BREACHNOTICE_SECRET (see secret),
	// chosen once.
	fallbackSecret string
	// process names this process where the database records it ("breachnotice import, by
	// root on host"): the first process with a secret binds the database to it.
	process string
}

func newRootCommand(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "breachnotice",
		Short:         "Notify the customers of a breached company, in their language, with proof of notice",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.FromEnv(getenv)
			if err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			a.cfg = cfg
			a.log = newLogger(stderr, cfg.LogLevel)
			a.process = processName(cmd)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		a.migrateCommand(),
		a.campaignCommand(),
		a.importCommand(),
		a.tokenCommand(),
		a.userCommand(),
		a.serveCommand(),
		a.runCommand(),
		a.workerCommand(),
		a.previewCommand(),
		a.lintCommand(),
		a.purgeCommand(),
		a.reportCommand(),
		a.codesCommand(),
		a.lettersCommand(),
	)
	return root
}

// redisLogger is go-redis's logger over slog. Its lines name Redis's address and the error,
// never a customer's data.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// newLogger logs structured text to w. Log lines carry IDs and counts, never a customer's
// personal data.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// processName is cmd's path with the system account and host running it.
func processName(cmd *cobra.Command) string {
	name := cmd.CommandPath()
	if u, err := user.Current(); err == nil {
		name += ", by " + u.Username
	}
	if h, err := os.Hostname(); err == nil {
		name += " on " + h
	}
	return name
}

// openDB connects to DATABASE_URL.
func (a *app) openDB(ctx context.Context) (*postgres.DB, error) {
	if err := a.cfg.Require("DATABASE_URL"); err != nil {
		return nil, err
	}
	return postgres.Open(ctx, a.cfg.DatabaseURL)
}

func (a *app) migrateCommand() *cobra.Command {
	var finish, rollback bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.cfg.Require("DATABASE_URL"); err != nil {
				return err
			}
			n, err := postgres.Migrate(cmd.Context(), a.cfg.DatabaseURL)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "migrations applied: %d\n", n)
			if !finish && !rollback {
				return nil
			}
			ops, done, err := a.operations(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			if finish {
				if err := ops.FinishUpgrade(cmd.Context(), cliActor()); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, "upgrade finished: sent notices are held on their deliveries")
				return nil
			}
			if err := ops.PrepareRollback(cmd.Context(), cliActor()); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "ready to roll back: every sent notice has its sent event, and none is held on its delivery")
			return nil
		},
	}
	cmd.Flags().BoolVar(&finish, "finish-upgrade", false,
		"once no process of the previous release runs: record sent notices on their deliveries alone (README, Upgrading)")
	cmd.Flags().BoolVar(&rollback, "before-rollback", false,
		"before the previous release runs again: write the sent notices held on deliveries as events, and hold no more")
	cmd.MarkFlagsMutuallyExclusive("finish-upgrade", "before-rollback")
	return cmd
}
