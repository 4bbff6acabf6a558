// Command candor runs Candor: precision marketing with personal-data
// protection built into every path.
//
//	candor serve   [-config FILE] [-data DIR] [-db URL] [-addr HOST:PORT] [-admin-addr HOST:PORT] [-demo]
//	candor check   [-config FILE]
//	candor audit verify   [-data DIR | -db URL] [-head FILE] [-json]
//	candor audit head     [-data DIR | -db URL]
//	candor keys status|rotate   [-data DIR | -db URL]
//	candor keys webhook-secret -recipient ID [-config FILE] [-data DIR | -db URL]
//	candor keys identity-secret [-data DIR | -db URL]
//	candor backup  [-data DIR | -db URL] -to FILE
//	candor restore -from FILE [-data DIR | -db URL]
//	candor staff add -email E -name N -role R [-config FILE] [-data DIR | -db URL]
//	candor staff list [-data DIR | -db URL]
//	candor bench   stores|decide|read|seal [flags]
//	candor bench   ingest [flags]
//	candor version
//
// Every flag also reads from the environment (CANDOR_CONFIG, CANDOR_DATA,
// CANDOR_DB, CANDOR_ADDR, CANDOR_ADMIN_ADDR). Secrets come only from the
// environment or files: CANDOR_ADMIN_KEY(_FILE), CANDOR_WRITE_KEY(_FILE),
// CANDOR_MASTER_KEY_FILE. CANDOR_TLS_CERT and CANDOR_TLS_KEY name the
// files of a certificate that serve then uses to serve HTTPS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=…"; when it
// is not, [version] reads what the Go toolchain recorded in the binary.
var Version = ""

// version returns the stamped version, else the module version and the
// VCS revision, time and state that the build recorded.
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if modified {
			v += "+modified"
		}
	}
	if at != "" {
		v += " " + at
	}
	if bi.GoVersion != "" {
		v += " " + bi.GoVersion
	}
	return v
}

// errUsage is returned for a usage error: exit status 2.
var errUsage = errors.New("usage")

// exitError carries an exit status without a message of its own.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	restrictUmask()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return int(ee)
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintln(stderr, "candor:", err)
	return 1
}

const usage = `Candor: precision marketing with personal-data protection built in.

Usage:
  candor serve   [-config FILE] [-data DIR] [-db URL] [-addr HOST:PORT] [-admin-addr HOST:PORT] [-demo]
  candor check   [-config FILE]
  candor audit verify   [-data DIR | -db URL] [-head FILE] [-json]
  candor audit head     [-data DIR | -db URL]
  candor keys status|rotate   [-data DIR | -db URL]
  candor keys webhook-secret -recipient ID [-config FILE] [-data DIR | -db URL]
  candor keys identity-secret [-data DIR | -db URL]
  candor backup  [-data DIR | -db URL] -to FILE
  candor restore -from FILE [-data DIR | -db URL]
  candor staff add -email E -name N -role R [-config FILE] [-data DIR | -db URL]
  candor staff list [-data DIR | -db URL]
  candor bench   stores|decide|read|seal [-db URL] [-subjects N] [-c N] [-d DURATION] [-nodes N] [-json] [-cpuprofile FILE]
  candor bench   ingest [-db URL] [-subjects N] [-c N] [-batch N] [-d DURATION] [-json] [-cpuprofile FILE]
  candor version

Try it: candor serve -demo. Check a policy: candor check -config examples/candor.yaml
(the demo's policy, in the source tree).

Flags also read from the environment: CANDOR_CONFIG, CANDOR_DATA, CANDOR_DB,
CANDOR_ADDR, CANDOR_ADMIN_ADDR. Secrets come only from the environment or
files: CANDOR_ADMIN_KEY(_FILE), CANDOR_WRITE_KEY(_FILE), CANDOR_MASTER_KEY_FILE,
CANDOR_SMTP_URL(_FILE), CANDOR_SMS_URL(_FILE), CANDOR_SMS_SECRET(_FILE),
CANDOR_STAFF_PASSWORD(_FILE). CANDOR_TLS_CERT and CANDOR_TLS_KEY (file paths)
make serve speak HTTPS.

Run "candor COMMAND -h" for the flags of a command.
`

// runMain dispatches a command line.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(ctx, rest, stdout, stderr)
	case "check":
		return checkCmd(rest, stdout, stderr)
	case "audit":
		return auditCmd(ctx, rest, stdout, stderr)
	case "keys":
		return keysCmd(ctx, rest, stdout, stderr)
	case "backup":
		return backupCmd(ctx, rest, stdout, stderr)
	case "restore":
		return restoreCmd(ctx, rest, stdout, stderr)
	case "bench":
		return benchCmd(ctx, rest, stdout, stderr)
	case "staff":
		return staffCmd(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "candor", version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "candor: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// newFlags returns a flag set that reports errors on stderr and returns
// errUsage instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("candor "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// env returns the environment variable, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// secret reads a secret from NAME or the file named by NAME_FILE.
func secret(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return strings.TrimSpace(v), nil
	}
	if f := os.Getenv(name + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read %s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// storeFlags adds -data and -db.
func storeFlags(fs *flag.FlagSet) (data, db *string) {
	data = fs.String("data", env("CANDOR_DATA", "./candor-data"), "data directory of the embedded store (CANDOR_DATA)")
	db = fs.String("db", env("CANDOR_DB", ""), "PostgreSQL URL instead of the embedded store (CANDOR_DB)")
	return data, db
}
