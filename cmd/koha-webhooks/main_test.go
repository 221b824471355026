package main

import (
	"os"
	"testing"
)

// childEnv makes the test binary act as koha-webhooks itself, so that tests
// can run the program as a separate process and kill it.
const childEnv = "KOHA_WEBHOOKS_TEST_AS_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}
