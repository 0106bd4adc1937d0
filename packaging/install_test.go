// Package packaging_test checks that the files installed together agree:
// the production config (systemd/campaignd.toml, the package's
// /etc/campaignd/campaignd.toml), the example config it is derived from,
// the units, and the sysusers and tmpfiles snippets. The package itself is
// built and tested by packaging/build-deb and packaging/test-deb.
package packaging_test

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"campaignd/internal/config"
)

const (
	prodConfig    = "../systemd/campaignd.toml"
	exampleConfig = "../config.example.toml"
	stateDir      = "/var/lib/campaignd"
	runtimeDir    = "/run/campaignd"
	templateDir   = "/etc/campaignd/templates"
)

// TestProductionConfig: the production config loads, sends only to the
// outbox (safe to start before a real channel is set up), and keeps every
// path where the units and the package put things.
func TestProductionConfig(t *testing.T) {
	c := loadProduction(t)
	paths := map[string]string{
		"ledger.path":         c.Ledger.Path,
		"inbox.dir":           c.Inbox.Dir,
		"inbox.processed_dir": c.Inbox.ProcessedDir,
		"inbox.rejected_dir":  c.Inbox.RejectedDir,
		"channel.outbox.dir":  c.Channel.Outbox.Dir,
	}
	for key, p := range paths {
		if filepath.Dir(p) != stateDir {
			t.Errorf("%s = %q, want it directly in %s", key, p, stateDir)
		}
	}
	if filepath.Dir(c.Control.Socket) != runtimeDir {
		t.Errorf("control.socket = %q, want it in %s", c.Control.Socket, runtimeDir)
	}
	for _, cp := range c.Campaigns {
		if cp.Channel != "outbox" {
			t.Errorf("campaign %s uses channel %s; the shipped config must use the outbox", cp.Name, cp.Channel)
		}
	}
}

// TestProductionConfigFollowsExample: the production config has exactly the
// example's settings but for the paths, so a setting added to one is not
// forgotten in the other.
func TestProductionConfigFollowsExample(t *testing.T) {
	prod, example := decode(t, prodConfig), decode(t, exampleConfig)
	// The example's relative paths, as the production config spells them.
	relocate := map[string]string{"var/": stateDir + "/", "templates/": templateDir + "/"}
	for _, k := range []string{"ledger.path", "inbox.dir", "inbox.processed_dir", "inbox.rejected_dir", "channel.outbox.dir"} {
		move(example, k, relocate)
	}
	setKey(example, "control.socket", runtimeDir+"/campaignd.sock")
	for _, cp := range example["campaign"].([]map[string]any) {
		for from, to := range relocate {
			if s := cp["template"].(string); strings.HasPrefix(s, from) {
				cp["template"] = to + strings.TrimPrefix(s, from)
			}
		}
	}
	if !reflect.DeepEqual(prod, example) {
		t.Errorf("%s differs from %s in more than the paths:\nproduction: %v\nexample:    %v", prodConfig, exampleConfig, prod, example)
	}
}

// TestUnitsAndSnippetsAgree: the unit runs as the user the sysusers
// snippet creates, reads the production config, and its state and runtime
// folders are the ones the config names; the tmpfiles snippet creates every
// folder of the config, owned by that user.
func TestUnitsAndSnippetsAgree(t *testing.T) {
	unit := keyValues(t, "../systemd/campaignd.service")
	user := strings.Fields(lines(t, "../systemd/campaignd.sysusers")[0])
	if len(user) < 2 || user[0] != "u" || user[1] != unit["User"] || unit["Group"] != unit["User"] {
		t.Errorf("sysusers creates %q; the unit runs as %s:%s", user, unit["User"], unit["Group"])
	}
	if want := "/usr/bin/campaignd run --config /etc/campaignd/campaignd.toml"; unit["ExecStart"] != want {
		t.Errorf("ExecStart=%s, want %s", unit["ExecStart"], want)
	}
	if "/var/lib/"+unit["StateDirectory"] != stateDir || "/run/"+unit["RuntimeDirectory"] != runtimeDir {
		t.Errorf("StateDirectory=%s RuntimeDirectory=%s, want %s and %s", unit["StateDirectory"], unit["RuntimeDirectory"], stateDir, runtimeDir)
	}
	c := loadProduction(t)
	created := map[string][]string{}
	for _, l := range lines(t, "../systemd/campaignd.tmpfiles") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == "d" {
			created[f[1]] = f[2:5]
		}
	}
	for _, dir := range []string{stateDir, c.Inbox.Dir, c.Inbox.ProcessedDir, c.Inbox.RejectedDir, c.Channel.Outbox.Dir, filepath.Dir(c.Ledger.Path)} {
		got, ok := created[dir]
		if !ok || got[1] != unit["User"] || got[2] != unit["Group"] {
			t.Errorf("tmpfiles: %s is %v, want a d line owned by %s:%s", dir, got, unit["User"], unit["Group"])
		}
	}
}

// loadProduction loads the production config as installed: its templates
// in /etc/campaignd/templates are the repository's templates/ (the package
// installs them there), so they are read from templates/. Every template
// must be in /etc/campaignd/templates.
func loadProduction(t *testing.T) *config.Config {
	t.Helper()
	b, err := os.ReadFile(prodConfig)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := filepath.Abs("../templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range decode(t, prodConfig)["campaign"].([]map[string]any) {
		if p := cp["template"].(string); filepath.Dir(p) != templateDir {
			t.Errorf("campaign %s: template %q, want it in %s", cp["name"], p, templateDir)
		}
	}
	b = []byte(strings.ReplaceAll(string(b), `"`+templateDir+"/", `"`+shipped+"/"))
	c, err := config.Parse(prodConfig, b)
	if err != nil {
		t.Fatalf("%s must load as it is: %v", prodConfig, err)
	}
	return c
}

func decode(t *testing.T, path string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if _, err := toml.DecodeFile(path, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// move rewrites the string at dotted key k by the first prefix of relocate it has.
func move(m map[string]any, k string, relocate map[string]string) {
	s, _ := getKey(m, k).(string)
	for from, to := range relocate {
		if strings.HasPrefix(s, from) {
			setKey(m, k, to+strings.TrimPrefix(s, from))
		}
	}
}

func getKey(m map[string]any, k string) any {
	parts := strings.Split(k, ".")
	for _, p := range parts[:len(parts)-1] {
		m, _ = m[p].(map[string]any)
	}
	return m[parts[len(parts)-1]]
}

func setKey(m map[string]any, k string, v any) {
	parts := strings.Split(k, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	m[parts[len(parts)-1]] = v
}

// lines returns a file's lines without comments and blank lines.
func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// keyValues reads a unit file's KEY=VALUE lines (the last one of a key wins).
func keyValues(t *testing.T, path string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, l := range lines(t, path) {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[k] = v
		}
	}
	return kv
}
