package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// toolPaths are the absolute paths of the external commands the harness runs.
type toolPaths struct {
	nginx, haproxy, wrk, h2load, taskset, getconf, goBin string
}

// requiredTool is an external command and the Debian package that ships it.
type requiredTool struct {
	cmd, pkg string
	dst      func(*toolPaths) *string
}

// requiredTools are installed with apt-get when absent. The machines that run
// this are rebuilt between sessions, so the harness cannot rely on anything
// installed by hand: it must install what it needs, never skip it.
var requiredTools = []requiredTool{
	// nginx-light is the smallest Debian flavour that has the proxy and
	// upstream keepalive modules; nothing else is needed.
	{"nginx", "nginx-light", func(t *toolPaths) *string { return &t.nginx }},
	// Only the binary is used: the harness runs its own haproxy process
	// with its own configuration, whatever the packaged service does.
	{"haproxy", "haproxy", func(t *toolPaths) *string { return &t.haproxy }},
	{"wrk", "wrk", func(t *toolPaths) *string { return &t.wrk }},
	{"h2load", "nghttp2-client", func(t *toolPaths) *string { return &t.h2load }},
	{"taskset", "util-linux", func(t *toolPaths) *string { return &t.taskset }},
	{"getconf", "libc-bin", func(t *toolPaths) *string { return &t.getconf }},
}

// lookTool finds cmd on PATH or in the sbin directories, where Debian puts
// nginx and which a non-login shell's PATH may lack.
func lookTool(cmd string) (string, error) {
	if p, err := exec.LookPath(cmd); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, cmd)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", cmd)
}

// ensureTools finds every required tool, installing the missing ones with
// apt-get (logging to w), and fails loudly if any is still missing.
func ensureTools(ctx context.Context, w io.Writer) (toolPaths, error) {
	var tools toolPaths
	var missing []requiredTool
	for _, rt := range requiredTools {
		if p, err := lookTool(rt.cmd); err == nil {
			*rt.dst(&tools) = p
		} else {
			missing = append(missing, rt)
		}
	}
	if len(missing) > 0 {
		if err := aptInstall(ctx, w, missing); err != nil {
			return tools, err
		}
		for _, rt := range missing {
			p, err := lookTool(rt.cmd)
			if err != nil {
				return tools, fmt.Errorf("apt-get installed %s but %s is still not found", rt.pkg, rt.cmd)
			}
			*rt.dst(&tools) = p
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return tools, errors.New("go not found on PATH; it is needed to build Strait")
	}
	tools.goBin = goBin
	return tools, nil
}

// aptInstall installs the packages of the missing tools. If Debian no longer
// ships nginx-light (it became a transitional package), plain nginx is
// tried instead.
func aptInstall(ctx context.Context, w io.Writer, missing []requiredTool) error {
	var names, pkgs []string
	for _, rt := range missing {
		names = append(names, rt.cmd)
		pkgs = append(pkgs, rt.pkg)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s missing and not running as root to apt-get install %s; install them and rerun",
			strings.Join(names, ", "), strings.Join(pkgs, " "))
	}
	logf(w, "%s missing; installing %s with apt-get", strings.Join(names, ", "), strings.Join(pkgs, " "))
	if err := aptGet(ctx, w, "update"); err != nil {
		return fmt.Errorf("apt-get update failed, cannot install %s: %w", strings.Join(pkgs, " "), err)
	}
	err := aptGet(ctx, w, append([]string{"install", "-y"}, pkgs...)...)
	if err != nil && strings.Contains(strings.Join(pkgs, " "), "nginx-light") {
		for i, p := range pkgs {
			if p == "nginx-light" {
				pkgs[i] = "nginx"
			}
		}
		logf(w, "installing nginx-light failed (%v); retrying with %s", err, strings.Join(pkgs, " "))
		err = aptGet(ctx, w, append([]string{"install", "-y"}, pkgs...)...)
	}
	if err != nil {
		return fmt.Errorf("apt-get install %s failed, cannot benchmark without %s: %w",
			strings.Join(pkgs, " "), strings.Join(names, ", "), err)
	}
	return nil
}

// aptGet runs apt-get non-interactively with its output shown, since an
// install can take a while and its errors are the useful diagnosis.
func aptGet(ctx context.Context, w io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = w, w
	return cmd.Run()
}

// straitModule is the module path the harness expects at the repository
// root; checking it catches `go run` from some other module's directory.
const straitModule = "github.com/straitgw/strait"

// repoRoot returns the directory of the Strait module's go.mod, located with
// `go env GOMOD` so the harness works from any directory inside the module.
func repoRoot(ctx context.Context, goBin string) (string, error) {
	out, err := runOutput(ctx, "", goBin, "env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module; run from the Strait repository")
	}
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	if modulePath(string(b)) != straitModule {
		return "", fmt.Errorf("%s is module %q, want %s; run from the Strait repository", gomod, modulePath(string(b)), straitModule)
	}
	return filepath.Dir(gomod), nil
}

// modulePath returns the module path declared in a go.mod file's text.
func modulePath(gomod string) string {
	for _, line := range strings.Split(gomod, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// buildStrait compiles ./cmd/strait into tmp and returns the binary's path.
// Building here, rather than using an installed binary, guarantees the
// numbers describe this checkout.
func buildStrait(ctx context.Context, goBin, root, tmp string) (string, error) {
	// The binary keeps the name strait (the leftover sweep matches it by
	// name) but lives in its own folder: tmp/strait holds the manifests.
	bin := filepath.Join(tmp, "bin", "strait")
	if _, err := runOutput(ctx, root, goBin, "build", "-o", bin, "./cmd/strait"); err != nil {
		return "", fmt.Errorf("building Strait failed: %w", err)
	}
	return bin, nil
}
