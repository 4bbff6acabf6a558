package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestUsageListsEveryFlag: the usage text names every command and, for
// each, every flag its flag set defines (as `candor COMMAND -h` prints
// them).
func TestUsageListsEveryFlag(t *testing.T) {
	commands := [][]string{
		{"serve"}, {"check"}, {"audit", "verify"}, {"keys", "status"}, {"keys", "rotate"},
		{"keys", "webhook-secret"}, {"keys", "identity-secret"}, {"backup"}, {"restore"},
		{"staff", "add"}, {"staff", "list"}, {"bench", "stores"}, {"bench", "ingest"},
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z-]+)`)
	for _, c := range commands {
		name := strings.Join(c, " ")
		line := ""
		for _, l := range strings.Split(usage, "\n") {
			if strings.HasPrefix(strings.Join(strings.Fields(l), " "), "candor "+name) ||
				(c[0] == "bench" || c[0] == "keys") && strings.Contains(l, "candor "+c[0]) && strings.Contains(l, c[1]) {
				line += l + "\n"
			}
		}
		if line == "" {
			t.Errorf("usage does not name %q", name)
			continue
		}
		var stderr bytes.Buffer
		err := runMain(context.Background(), append(append([]string{}, c...), "-h"), io.Discard, &stderr)
		if exitCode(err, io.Discard) != 0 {
			t.Errorf("%s -h: %v\n%s", name, err, stderr.String())
		}
		for _, m := range flagLine.FindAllStringSubmatch(stderr.String(), -1) {
			if !strings.Contains(line, "-"+m[1]+" ") && !strings.Contains(line, "-"+m[1]+"]") {
				t.Errorf("usage line of %q lacks -%s:\n%s", name, m[1], line)
			}
		}
	}
	for _, cmd := range []string{"version", "help"} {
		if err := runMain(context.Background(), []string{cmd}, io.Discard, io.Discard); err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}

// TestCheckWithoutPolicy: `candor check` where there is no candor.yaml
// says how to name one, and where the demo's is.
func TestCheckWithoutPolicy(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CANDOR_CONFIG", "")
	for _, cmd := range []string{"check", "serve"} {
		var stderr bytes.Buffer
		err := runMain(context.Background(), []string{cmd}, io.Discard, &stderr)
		if exitCode(err, io.Discard) != 2 {
			t.Errorf("%s: exit %d, want 2 (%v)", cmd, exitCode(err, io.Discard), err)
		}
		for _, want := range []string{"no candor.yaml", "-config", "examples/candor.yaml"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: %q lacks %q", cmd, stderr.String(), want)
			}
		}
	}
}

// TestVersion: without a stamped version, the version comes from the build
// information: module version, revision, time and whether the tree was
// modified.
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/candorhq/candor", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "3da2a8e0123456789abcdef"}, {Key: "vcs.time", Value: "2026-11-25T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(bi), "v0.3.0 3da2a8e01234+modified 2026-11-25T10:00:00Z go1.26.0"; got != want {
		t.Errorf("versionOf = %q, want %q", got, want)
	}
	if got := versionOf(&debug.BuildInfo{}); got != "(devel)" {
		t.Errorf("versionOf(empty) = %q", got)
	}
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"version"}, &out, io.Discard); err != nil || out.String() == "candor dev\n" || !strings.HasPrefix(out.String(), "candor ") {
		t.Errorf("version: %q, %v", out.String(), err)
	}
}
