package broker

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// A trigger's identity is what Kubernetes' API server would fill in: a uid
// given when the trigger is created and kept while it is changed, the
// generation, which counts its changes, when it was created, and a
// resourceVersion new with each change, which a PUT can name to change the
// trigger only as it read it. The uid
// names the trigger's processor, so a trigger deleted and created again
// under the same name starts afresh from the log's head, as in Knative,
// whatever the old one left behind: tokens a failed cleanup kept, or
// segments a node that had not yet seen the delete went on writing.
type triggerIdentity struct {
	// ResourceVersion is new with each write of the row.
	ResourceVersion   string `json:"resourceVersion,omitempty"`
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

// newResourceVersion is the resourceVersion of a write made now. Like
// Kubernetes', it is opaque and only ever compared for equality.
func newResourceVersion(now time.Time) string { return strconv.FormatInt(now.UnixNano(), 10) }

// stamped is t's document with the identity id.
func (t parsedTrigger) stamped(id triggerIdentity) ([]byte, error) {
	res := t.Resource
	md := &res.Metadata
	md.ResourceVersion, md.UID, md.Generation, md.CreationTimestamp = id.ResourceVersion, id.UID, id.Generation, id.CreationTimestamp
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
