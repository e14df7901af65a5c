package live_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium package's browser, which .ci/run
// installs.
const chromiumPath = "/usr/bin/chromium"

// rowsJS reads a table's rows as maps from each cell's data-col to its
// rendered text (innerText: what a reader sees, line breaks included).
const rowsJS = `Array.from(document.querySelectorAll('#%s tbody tr')).filter(tr => !tr.hidden).map(tr =>
	Object.fromEntries(Array.from(tr.cells).map(td => [td.dataset.col, td.innerText])))`

type rows []map[string]string

// find returns the first row whose cells contain every given text.
func (rs rows) find(want map[string]string) map[string]string {
	for _, r := range rs {
		ok := true
		for col, text := range want {
			ok = ok && strings.Contains(r[col], text)
		}
		if ok {
			return r
		}
	}
	return nil
}

// TestBrowser opens the live view in headless Chromium: the tables show
// the shop scenario (hosts, paths, backends, the ejected endpoint, the
// certificate's expiry, the problem with its markup as text), the page
// renders, a change to the manifests on disk shows without a reload, and
// a lost connection shows a banner while the tables stay.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("no browser: %v; install Debian's chromium package (apt-get install -y --no-install-recommends chromium), as .ci/run does", err)
	}
	shots := os.Getenv("STRAIT_LIVE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	sc := newShop(t)
	srv, stop := startStoppable(t, sc.dir)
	for range 12 {
		proxyGet(t, srv, "shop.test", "/") // ejects the dead endpoint
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Small /dev/shm mounts (containers) crash renderers.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	quiet := func(string, ...any) {}
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(quiet), chromedp.WithErrorf(quiet))
	defer cancelBrowser()

	// The root redirects to the page.
	if err := chromedp.Do(bctx, chromedp.Navigate("http://"+srv.HealthzAddr()+"/")); err != nil {
		t.Fatalf("opening the live view: %v", err)
	}
	if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/live/") {
		t.Fatalf("location %q (%v), want .../live/", loc, err)
	}
	table := func(id string) rows {
		t.Helper()
		rs, err := chromedp.Run(bctx, chromedp.Evaluate[rows](fmt.Sprintf(rowsJS, id)))
		if err != nil {
			t.Fatalf("reading table %s: %v", id, err)
		}
		return rs
	}
	text := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	// waitRow polls the DOM until a row of table id has the texts.
	waitRow := func(id string, want map[string]string, within time.Duration) map[string]string {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			if r := table(id).find(want); r != nil {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %v table %s has no row with %q; it has %q", within, id, want, table(id))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	api := waitRow("routes", map[string]string{"host": "shop.test", "path": "/api"}, 15*time.Second)
	for col, want := range map[string]string{
		"host":     "shop.test\nTLS shop/shop-tls",
		"match":    "Prefix",
		"source":   "Ingress shop/shop",
		"backend":  "shop/web:80 (80)\ncanary shop/canary:80 (20)",
		"canary":   "header X-Canary\nweight 20/100\nfrom Ingress shop/shop-canary",
		"policies": "body ≤ 8m",
	} {
		if api[col] != want {
			t.Errorf("shop.test /api %s cell = %q, want %q", col, api[col], want)
		}
	}
	// Requests to shop.test /api show as a rate within a few refreshes:
	// the page samples the request metrics on each fetch.
	rateDeadline := time.Now().Add(15 * time.Second)
	for {
		for range 5 {
			proxyGet(t, srv, "shop.test", "/api")
		}
		r := table("routes").find(map[string]string{"host": "shop.test", "path": "/api"})
		if v, err := strconv.ParseFloat(r["rps"], 64); err == nil && v > 0 {
			break
		}
		if time.Now().After(rateDeadline) {
			t.Fatalf("shop.test /api rps cell = %q after 15 s of requests, want a rate above 0", r["rps"])
		}
		time.Sleep(500 * time.Millisecond)
	}
	waitRow("routes", map[string]string{"host": "demo.strait.local", "path": "/exact", "match": "Exact", "backend": "demo/echo-b:80"}, time.Second)
	waitRow("routes", map[string]string{"host": "broken.test", "path": "/", "backend": "answer 503"}, time.Second)
	waitRow("backends", map[string]string{"backend": "shop/web:80", "endpoint": fmt.Sprintf("127.0.0.1:%d", sc.dead), "state": "ejected"}, time.Second)
	waitRow("backends", map[string]string{"backend": "shop/web:80", "endpoint": fmt.Sprintf("127.0.0.1:%d", sc.good), "state": "healthy"}, time.Second)
	cert := waitRow("certificates", map[string]string{"secret": "shop/shop-tls"}, time.Second)
	if want := sc.notAfter.Format("2006-01-02 15:04") + " UTC"; cert["expiry"] != want || cert["days"] != "9" || cert["status"] != "expires soon" || cert["hosts"] != "shop.test" {
		t.Errorf("certificate row = %q, want expiry %q, 9 days left, expires soon, for shop.test", cert, want)
	}
	problem := waitRow("problems", map[string]string{"object": "Ingress shop/broken", "reason": "ServiceNotFound"}, time.Second)
	if problem["message"] != "Service shop/missing not found; requests get 503" {
		t.Errorf("problem message = %q", problem["message"])
	}
	// The annotation's markup shows as text and made no element.
	waitRow("problems", map[string]string{"object": "Ingress shop/broken", "message": brokenAnnotation}, time.Second)
	if n := text(`String(document.querySelectorAll('img').length)`); n != "0" {
		t.Errorf("the page has %s img elements: markup from an object was parsed", n)
	}
	gen := text(`document.getElementById('generation').innerText`)
	if !regexp.MustCompile(`^generation \d+ \(full\) at `).MatchString(gen) {
		t.Errorf("generation line %q", gen)
	}
	if u := text(`document.getElementById('updated').innerText`); !strings.HasPrefix(u, "last updated ") {
		t.Errorf("updated line %q", u)
	}
	if b := text(`String(document.getElementById('banner').hidden)`); b != "true" {
		t.Errorf("connection banner shown while connected")
	}
	screenshot(t, bctx, filepath.Join(shots, "live-1.png"))

	// A change on disk shows without a reload: the marker set now
	// survives.
	text(`window.straitMarker = 'same page'; 'ok'`)
	writeFile(t, sc.dir, "shop.yaml", strings.Replace(readFile(t, sc.dir, "shop.yaml"),
		"          - {path: /api,",
		"          - {path: /checkout, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}\n          - {path: /api,", 1))
	writeFile(t, sc.dir, "added.yaml", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: added, namespace: shop}
spec:
  ingressClassName: strait
  rules:
    - host: added.test
      http:
        paths:
          - {path: /new, pathType: Prefix, backend: {service: {name: canary, port: {number: 80}}}}
`)
	waitRow("routes", map[string]string{"host": "added.test", "path": "/new", "source": "Ingress shop/added", "backend": "shop/canary:80"}, 15*time.Second)
	waitRow("routes", map[string]string{"host": "shop.test", "path": "/checkout", "match": "Exact"}, 15*time.Second)
	if m := text(`String(window.straitMarker)`); m != "same page" {
		t.Errorf("the page was reloaded (marker %q)", m)
	}
	if g := text(`document.getElementById('generation').innerText`); g == gen {
		t.Errorf("generation line unchanged after the change: %q", g)
	}
	screenshot(t, bctx, filepath.Join(shots, "live-2-updated.png"))

	// Strait goes away: the banner says so, the tables stay.
	stop()
	deadline := time.Now().Add(10 * time.Second)
	for text(`String(document.getElementById('banner').hidden)`) != "false" {
		if time.Now().After(deadline) {
			t.Fatal("no connection-lost banner 10 s after the server stopped")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b := text(`document.getElementById('banner').innerText`); !strings.HasPrefix(b, "Connection to Strait lost") {
		t.Errorf("banner %q", b)
	}
	waitRow("routes", map[string]string{"host": "added.test", "path": "/new"}, time.Second)
	screenshot(t, bctx, filepath.Join(shots, "live-3-disconnected.png"))
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// screenshot saves a full-page PNG and checks that it shows a rendered
// page: of a sane size, and neither blank nor of one colour.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < 1000 || bounds.Dy() < 600 || bounds.Dy() > 20000 {
		t.Fatalf("screenshot %s is %v, want at least 1000x600", path, bounds.Size())
	}
	colours, background, other := pixelStats(img)
	share := float64(other) / float64(bounds.Dx()*bounds.Dy())
	if colours < 50 || share < 0.05 {
		t.Errorf("screenshot %s looks blank: %d colours, %.1f %% of pixels differ from the background %v", path, colours, 100*share, background)
	}
	t.Logf("screenshot %s: %v, %d colours, %.0f %% non-background", path, bounds.Size(), colours, 100*share)
}

// pixelStats counts an image's distinct colours, finds its most common
// one (the background) and counts the pixels of other colours.
func pixelStats(img image.Image) (colours int, background [4]uint32, other int) {
	count := map[[4]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			count[[4]uint32{r, g, bl, a}]++
		}
	}
	most := 0
	for c, n := range count {
		if n > most {
			most, background = n, c
		}
	}
	return len(count), background, b.Dx()*b.Dy() - most
}
