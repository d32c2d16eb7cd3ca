package broker

import "fmt"

// Preconditions are what a write can require of the trigger it changes or
// removes, as Kubernetes' metadata.uid and resourceVersion in an update
// and DeleteOptions.preconditions in a delete; an empty field requires
// nothing.
type Preconditions struct {
	UID             string `json:"uid,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// check is a *ConflictError when the trigger key, stored (exists) with the
// identity id, does not meet p, and ErrTriggerNotFound when p requires a
// trigger that is not there (Kubernetes' 404 for an update of a missing
// object).
func (p Preconditions) check(key string, exists bool, id triggerIdentity) error {
	switch {
	case p == Preconditions{}:
		return nil
	case !exists:
		return fmt.Errorf("%w: %s; the request requires it at %s (read before, it was deleted since; leave metadata.uid and resourceVersion out to create it)", ErrTriggerNotFound, key, p.required())
	case p.UID != "" && p.UID != id.UID:
		return &ConflictError{Reason: fmt.Sprintf("trigger %s has uid %q, not %q: it was deleted and created again since it was read", key, id.UID, p.UID)}
	case p.ResourceVersion != "" && p.ResourceVersion != id.ResourceVersion:
		return &ConflictError{Reason: fmt.Sprintf("trigger %s is at resourceVersion %q, not %q: it changed since it was read; read it again and make the change to that (or leave metadata.resourceVersion out to replace it whatever it is)", key, id.ResourceVersion, p.ResourceVersion)}
	}
	return nil
}

// required names what p requires, leaving out the empty fields: a PUT
// that names only its resourceVersion was told it required uid "".
func (p Preconditions) required() string {
	switch {
	case p.UID == "":
		return fmt.Sprintf("resourceVersion %q", p.ResourceVersion)
	case p.ResourceVersion == "":
		return fmt.Sprintf("uid %q", p.UID)
	}
	return fmt.Sprintf("uid %q and resourceVersion %q", p.UID, p.ResourceVersion)
}

// ConflictError is a write of a trigger that must be made again, if at
// all: the trigger does not meet the write's preconditions, or another
// node took the writes lock before the commit (a 409, as Kubernetes
// answers both).
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

// lapsed is the error of a write whose lock another node took (this one
// stalled past the claim timeout): nothing was written.
func lapsed(key string) error {
	return &ConflictError{Reason: fmt.Sprintf("trigger %s: this node's hold on the trigger writes lock lapsed before the commit, and nothing was written: try again", key)}
}
