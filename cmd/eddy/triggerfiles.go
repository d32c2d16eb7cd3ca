package main

import (
	"bytes"
	"fmt"
	"os"

	"eddy/broker/trigger"
)

// A triggerFile is a --triggers file, read and checked before the node
// opens its store: a wrong path or a broken trigger is said at once, in one
// line, not after the store is opened and the partitions claimed.
type triggerFile struct {
	name string
	data []byte
}

// readTriggerFiles reads and checks each of names, with the parser the
// broker applies them with; the broker applies what was read here, so a
// file changed meanwhile is not read twice.
func readTriggerFiles(names []string) ([]triggerFile, error) {
	files := make([]triggerFile, 0, len(names))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--triggers: %w", err)
		}
		ts, err := trigger.Load(bytes.NewReader(data), trigger.LoadOptions{File: name})
		if err != nil {
			return nil, fmt.Errorf("--triggers: %w", err) // FILE:LINE: what
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("--triggers %s: no trigger in the file", name)
		}
		files = append(files, triggerFile{name: name, data: data})
	}
	return files, nil
}
