package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestPIPLDaysFromEnvironment: CANDOR_PIPL_DAYS is read when the command
// line is, before anything is opened, and a value out of range is refused
// with the variable's name.
func TestPIPLDaysFromEnvironment(t *testing.T) {
	for _, v := range []string{"0", "91", "fifteen", "-3"} {
		t.Setenv("CANDOR_PIPL_DAYS", v)
		data := filepath.Join(t.TempDir(), "data")
		err := runMain(context.Background(), []string{"serve", "-demo", "-data", data, "-addr", "127.0.0.1:0"}, io.Discard, io.Discard)
		if want := "CANDOR_PIPL_DAYS: want a number of days from 1 to 90"; err == nil || err.Error() != want {
			t.Errorf("CANDOR_PIPL_DAYS=%s: %v; want %q", v, err, want)
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("CANDOR_PIPL_DAYS=%s: the data directory was made before the value was checked", v)
		}
	}
}
