package broker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// A trigger's identity is what Kubernetes' API server would fill in: a uid
// given when the trigger is created and kept while it is changed, the
// generation, which counts its changes, and when it was created. The uid
// names the trigger's processor, so a trigger deleted and created again
// under the same name starts afresh from the log's head, as in Knative,
// whatever the old one left behind: tokens a failed cleanup kept, or
// segments a node that had not yet seen the delete went on writing.
type triggerIdentity struct {
	UID               string `json:"uid,omitempty"`
	Generation        int64  `json:"generation,omitempty"`
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
}

// identityOf reads the identity stamped in a stored trigger document.
// Triggers stored before Eddy stamped them have none: their processor
// keeps the name it had.
func identityOf(doc []byte) (triggerIdentity, error) {
	var d struct {
		Metadata triggerIdentity `json:"metadata"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return triggerIdentity{}, fmt.Errorf("reading the stored trigger's metadata: %w", err)
	}
	return d.Metadata, nil
}

// newIdentity is the identity of a trigger created now.
func newIdentity(now time.Time) triggerIdentity {
	return triggerIdentity{UID: uuid.NewString(), Generation: 1, CreationTimestamp: now.UTC().Format(time.RFC3339)}
}

// stamped is t's document with the identity id.
func (t parsedTrigger) stamped(id triggerIdentity) ([]byte, error) {
	res := t.Resource
	res.Metadata.UID, res.Metadata.Generation, res.Metadata.CreationTimestamp = id.UID, id.Generation, id.CreationTimestamp
	return json.Marshal(&res)
}

// processorName is the name of a trigger's processor: one per creation of
// the trigger, "trigger/<namespace>/<name>/<uid>", or without the uid for
// a trigger stored before Eddy gave them one.
func processorName(namespace, name, uid string) string {
	if uid == "" {
		return "trigger/" + namespace + "/" + name
	}
	return "trigger/" + namespace + "/" + name + "/" + uid
}
