package main

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/straitgw/strait/examples"
	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/server"
)

// demoBackends are the echo backends the quickstart manifests point at.
var demoBackends = []struct {
	name string
	addr string
}{
	{"echo-a", "127.0.0.1:19081"},
	{"echo-b", "127.0.0.1:19082"},
}

func demoCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve the quickstart example with its echo backends on loopback",
		Long: "Starts two echo backends on 127.0.0.1:19081 and :19082 and serves examples/quickstart " +
			"(the directory if it exists here, so edits apply live, else the copy built into the binary).",
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			log, err := f.logger()
			if err != nil {
				return err
			}
			f.cfg.Log = log
			if f.cfg.Manifests == "" {
				dir, cleanup, err := quickstartDir()
				if err != nil {
					return err
				}
				defer cleanup()
				f.cfg.Manifests = dir
			}
			for _, b := range demoBackends {
				ln, err := net.Listen("tcp", b.addr)
				if err != nil {
					return fmt.Errorf("demo backend %s: %w", b.name, err)
				}
				srv := &http.Server{Handler: echo.New(b.name), ReadHeaderTimeout: 10 * time.Second}
				go func() { _ = srv.Serve(ln) }()
				defer srv.Close()
			}
			srv, err := server.New(f.config())
			if err != nil {
				return err
			}
			printDemoURLs(f.cfg.HTTPPort, f.cfg.HTTPSPort, f.cfg.Manifests)
			ctx, cancel := signalContext()
			defer cancel()
			return srv.Run(ctx)
		},
	}
	f.register(cmd.Flags(), 8080, 8443)
	// Nothing routes to a demo through a load balancer: Ctrl-C stops it
	// at once unless asked otherwise.
	_ = cmd.Flags().Set("shutdown-delay", "0s")
	cmd.Flags().Lookup("shutdown-delay").DefValue = "0s"
	return cmd
}

// quickstartDir returns ./examples/quickstart when it exists, else a
// temporary copy of the embedded quickstart.
func quickstartDir() (string, func(), error) {
	if st, err := os.Stat(filepath.Join("examples", "quickstart")); err == nil && st.IsDir() {
		return filepath.Join("examples", "quickstart"), func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "strait-quickstart-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	sub, err := fs.Sub(examples.Quickstart, "quickstart")
	if err == nil {
		err = os.CopyFS(tmp, sub)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp, cleanup, nil
}

func printDemoURLs(httpPort, httpsPort int, dir string) {
	fmt.Printf(`Strait demo: serving %s (edit the files; changes apply live)

  curl -H 'Host: demo.strait.local' http://127.0.0.1:%d/
  curl -H 'Host: demo.strait.local' http://127.0.0.1:%d/b/anything
  curl -H 'Host: foo.apps.strait.local' http://127.0.0.1:%d/
  curl -k --http2 --resolve demo.strait.local:%d:127.0.0.1 https://demo.strait.local:%d/
  WebSocket: ws://127.0.0.1:%d/ with Host: demo.strait.local (echoes every message)

`, dir, httpPort, httpPort, httpPort, httpsPort, httpsPort, httpPort)
}
