//go:build !linux

package pebble

import "github.com/cockroachdb/pebble/v2/vfs"

// syncData syncs a write-ahead log; only Linux has the quieter path.
func syncData(f vfs.File, name string) error { return f.SyncData() }
