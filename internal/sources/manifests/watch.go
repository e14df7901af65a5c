package manifests

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/straitgw/strait/internal/snapshot"
)

// Timing of the watch loop. A burst of file events is coalesced: the loop
// waits HoldOff after the last event, but never more than MaxDelay after the
// first, and re-lists the directory every Poll in case an event was missed
// (network filesystems, ConfigMap volumes swapping symlinks).
const (
	HoldOff  = 5 * time.Millisecond
	MaxDelay = 50 * time.Millisecond
	Poll     = 2 * time.Second
)

// Source watches one directory of manifests.
type Source struct {
	dir   string
	log   *slog.Logger
	files map[string]*fileState
}

type fileState struct {
	mod  time.Time
	size int64
	objs snapshot.Objects
	errs []string
}

// New returns a Source for dir. Files ending in .yaml, .yml or .json at the
// top level of dir are read; others are ignored.
func New(dir string, log *slog.Logger) *Source {
	return &Source{dir: dir, log: log, files: map[string]*fileState{}}
}

// Load reads the directory once and returns its objects. It fails only when
// the directory itself cannot be read; bad documents are logged.
func (s *Source) Load() (snapshot.Objects, error) {
	_, err := s.scan(nil)
	if err != nil {
		return snapshot.Objects{}, err
	}
	return s.objects(), nil
}

// Run watches the directory until ctx ends, calling onChange with the full
// set of objects after every change that altered a file's contents. Load
// must have been called first.
func (s *Source) Run(ctx context.Context, onChange func(snapshot.Objects)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(s.dir); err != nil {
		return err
	}
	poll := time.NewTicker(Poll)
	defer poll.Stop()
	var (
		dirty    = map[string]bool{}
		holdOff  = time.NewTimer(time.Hour)
		deadline time.Time
	)
	holdOff.Stop()
	flush := func() {
		changed, err := s.scan(dirty)
		dirty = map[string]bool{}
		deadline = time.Time{}
		if err != nil {
			s.log.Error("reading manifests directory", "dir", s.dir, "error", err)
			return
		}
		if changed {
			onChange(s.objects())
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("manifests watcher closed")
			}
			dirty[filepath.Clean(ev.Name)] = true
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(MaxDelay)
			}
			wait := HoldOff
			if d := deadline.Sub(now); d < wait {
				wait = d
			}
			holdOff.Reset(wait)
		case err := <-w.Errors:
			s.log.Warn("manifests watcher", "error", err)
		case <-holdOff.C:
			flush()
		case <-poll.C:
			flush()
		}
	}
}

// scan re-reads every file that is new, changed on disk or named in dirty,
// forgets removed files, and reports whether the object set changed.
func (s *Source) scan(dirty map[string]bool) (bool, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return false, err
	}
	seen := map[string]bool{}
	changed := false
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !isManifest(name) {
			continue
		}
		path := filepath.Join(s.dir, name)
		info, err := os.Stat(path)
		if err != nil || info.IsDir() {
			continue
		}
		seen[path] = true
		old := s.files[path]
		if old != nil && !dirty[path] && old.mod.Equal(info.ModTime()) && old.size == info.Size() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			s.log.Error("reading manifest", "file", path, "error", err)
			continue
		}
		objs, errs := Decode(path, data)
		st := &fileState{mod: info.ModTime(), size: info.Size(), objs: objs}
		fatal := false
		for _, e := range errs {
			st.errs = append(st.errs, e.Error())
			if !IsIgnorable(e) {
				fatal = true
			}
		}
		if fatal && old != nil {
			// Keep serving what the file held before; the writer may be
			// half-way through, or the edit is wrong. Either way nothing
			// that works now should stop working.
			for _, e := range errs {
				s.log.Error("invalid manifest, keeping its previous contents", "error", e)
			}
			old.mod, old.size = info.ModTime(), info.Size()
			continue
		}
		for _, e := range errs {
			if IsIgnorable(e) {
				s.log.Warn("manifest", "error", e)
			} else {
				s.log.Error("invalid manifest document skipped", "error", e)
			}
		}
		s.files[path] = st
		changed = true
	}
	for path := range s.files {
		if !seen[path] {
			delete(s.files, path)
			changed = true
		}
	}
	return changed, nil
}

func isManifest(name string) bool {
	switch filepath.Ext(name) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// objects concatenates the files' objects in file-name order.
func (s *Source) objects() snapshot.Objects {
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var all snapshot.Objects
	for _, p := range paths {
		o := s.files[p].objs
		all.Ingresses = append(all.Ingresses, o.Ingresses...)
		all.IngressClasses = append(all.IngressClasses, o.IngressClasses...)
		all.Services = append(all.Services, o.Services...)
		all.EndpointSlices = append(all.EndpointSlices, o.EndpointSlices...)
		all.Secrets = append(all.Secrets, o.Secrets...)
		all.ConfigMaps = append(all.ConfigMaps, o.ConfigMaps...)
		all.GatewayClasses = append(all.GatewayClasses, o.GatewayClasses...)
		all.Gateways = append(all.Gateways, o.Gateways...)
		all.HTTPRoutes = append(all.HTTPRoutes, o.HTTPRoutes...)
		all.GRPCRoutes = append(all.GRPCRoutes, o.GRPCRoutes...)
		all.ReferenceGrants = append(all.ReferenceGrants, o.ReferenceGrants...)
		all.Namespaces = append(all.Namespaces, o.Namespaces...)
	}
	return all
}
