package trigger

// Resource is a trigger as declared, in the shape of Knative's
// eventing.knative.dev/v1 Trigger: what Load reads and what the REST API
// can return as JSON. Compile turns it into a Trigger.
type Resource struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata is the part of Kubernetes object metadata a trigger uses.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// UID, ResourceVersion, Generation and CreationTimestamp are Eddy's
	// to fill in, as the API server's are in Kubernetes: the broker stamps
	// them when it stores a trigger. Load reads the first two, which a PUT
	// may name as preconditions (Kubernetes' optimistic concurrency), and
	// ignores the others.
	UID               string `json:"uid,omitempty"`
	ResourceVersion   string `json:"resourceVersion,omitempty"`
	Generation        int64  `json:"generation,omitempty"`
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
}

// Spec is a trigger's spec.
type Spec struct {
	Broker     string        `json:"broker"`
	Filter     *FilterSpec   `json:"filter,omitempty"`
	Filters    []FilterExpr  `json:"filters,omitempty"`
	Subscriber Destination   `json:"subscriber"`
	Delivery   *DeliverySpec `json:"delivery,omitempty"`
}

// FilterSpec is the legacy filter: exact matches on attributes, "" for any
// value.
type FilterSpec struct {
	Attributes map[string]string `json:"attributes,omitempty"`
}

// FilterExpr is one filter of Knative's new filters API (the CloudEvents
// Subscriptions API dialects plus CESQL): exactly one field is set.
type FilterExpr struct {
	Exact  map[string]string `json:"exact,omitempty"`
	Prefix map[string]string `json:"prefix,omitempty"`
	Suffix map[string]string `json:"suffix,omitempty"`
	All    []FilterExpr      `json:"all,omitempty"`
	Any    []FilterExpr      `json:"any,omitempty"`
	Not    *FilterExpr       `json:"not,omitempty"`
	CESQL  string            `json:"cesql,omitempty"`
}

// Destination is where events go: a URI, or a Kubernetes reference (which
// Eddy resolves only through LoadOptions.ResolveRef), with the URI then
// relative to it.
type Destination struct {
	Ref *Ref   `json:"ref,omitempty"`
	URI string `json:"uri,omitempty"`
}

// Ref is a Kubernetes object reference.
type Ref struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// DeliverySpec is Knative's delivery spec; durations are ISO 8601.
type DeliverySpec struct {
	DeadLetterSink *Destination `json:"deadLetterSink,omitempty"`
	Retry          *int         `json:"retry,omitempty"`
	BackoffPolicy  string       `json:"backoffPolicy,omitempty"`
	BackoffDelay   string       `json:"backoffDelay,omitempty"`
	BackoffMax     string       `json:"backoffMax,omitempty"`
	Timeout        string       `json:"timeout,omitempty"`
	RetryAfterMax  string       `json:"retryAfterMax,omitempty"`
	Format         string       `json:"format,omitempty"`
}

// Knative's names.
const (
	APIVersion = "eventing.knative.dev/v1"
	Kind       = "Trigger"
	// OrderingAnnotation chooses ordered or unordered delivery, as for
	// Knative's Kafka broker.
	OrderingAnnotation = "kafka.eventing.knative.dev/delivery.order"
)
