package pebble

import (
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// shrinkingRemoveFS removes a large file by truncating it a step at a time
// before unlinking it. On ext4 one unlink of a 32 MB write-ahead log held
// the journal for about 30 ms, and every WAL fdatasync of the commits in
// flight waited for it; short truncations hold it briefly each.
type shrinkingRemoveFS struct{ vfs.FS }

// removeStep is how much one truncation gives back.
const removeStep = 1 << 20

// Remove implements vfs.FS. A file with other links (a checkpoint's, an
// ingested copy's) is only unlinked: truncating it would empty them too.
// (Pebble's Cleaner option would be the narrower hook, but its file type
// is internal to Pebble: no other package can implement it.)
func (fs shrinkingRemoveFS) Remove(name string) error {
	if info, err := os.Stat(name); err == nil && info.Mode().IsRegular() && linkCount(info) == 1 {
		for size := info.Size() - removeStep; size > 0; size -= removeStep {
			if os.Truncate(name, size) != nil {
				break // the unlink below still removes it, or says why not
			}
		}
	}
	return fs.FS.Remove(name)
}
