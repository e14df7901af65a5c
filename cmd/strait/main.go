// Command strait is a Kubernetes ingress controller and application gateway
// that proxies the traffic itself and never reloads.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "strait",
		Short:         "Strait: an ingress controller and gateway that never reloads",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCommand(), demoCommand(), versionCommand())
	root.AddCommand(checkCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "strait:", err)
		os.Exit(1)
	}
}

// signalContext ends on SIGTERM, SIGQUIT or SIGINT; a second signal exits at
// once.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT)
	go func() {
		sig := <-ch
		slog.Info("shutting down", "signal", sig.String())
		cancel()
		sig = <-ch
		slog.Warn("second signal, exiting now", "signal", sig.String())
		os.Exit(1)
	}()
	return ctx, cancel
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok {
				fmt.Fprintf(cmd.OutOrStdout(), "strait %s (%s)\n", v, bi.GoVersion)
				return
			}
			fmt.Fprintf(cmd.OutOrStdout(), "strait %s\n", v)
		},
	}
}
