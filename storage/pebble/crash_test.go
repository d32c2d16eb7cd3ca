package pebble_test

import (
	"os"
	"testing"

	"eddy/storage/crashtest"
)

func TestMain(m *testing.M) {
	crashtest.MaybeChild()
	os.Exit(m.Run())
}

func TestCrash(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	crashtest.Run(t, crashtest.Config{Backend: "pebble", Location: t.TempDir(), Rounds: rounds, Appenders: 8})
}
