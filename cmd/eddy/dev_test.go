package main

import (
	"strings"
	"testing"
)

func TestDescribeLocationHidesPasswords(t *testing.T) {
	for _, dsn := range []string{
		"postgres://eddy:s3cret@db.example:5433/prod",
		"postgres://eddy@db.example:5433/prod?password=s3cret&sslmode=disable",
		"host=db.example port=5433 user=eddy password=s3cret dbname=prod",
	} {
		got := describeLocation("postgres", dsn)
		if strings.Contains(got, "s3cret") {
			t.Errorf("%q is described as %q, password included", dsn, got)
		}
		if got != "postgres://eddy@db.example:5433/prod" {
			t.Errorf("%q is described as %q", dsn, got)
		}
	}
	if got := describeLocation("pebble", "eddy-data"); got != "eddy-data" {
		t.Errorf("a data directory is described as %q", got)
	}
}
