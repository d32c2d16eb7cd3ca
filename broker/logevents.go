package broker

import (
	"fmt"

	"eddy/cloudevents"
	"eddy/record"
	"eddy/storage"
)

// isCloudEventEntry tells from a log entry's header, without decoding it,
// whether it is a CloudEvent the broker accepted. The engine's record
// format puts the kind, value type and intent in bytes 1 to 3 (the engine's
// own log followers read them the same way); TestEntryHeaderPeek holds this
// to record.Unmarshal.
func isCloudEventEntry(data []byte) bool {
	return len(data) >= 5 && record.Kind(data[1]) == record.Event &&
		record.ValueType(data[2]) == record.CloudEvent && record.Intent(data[3]) == record.Published
}

// isJobCanceledEntry tells whether a log entry is a job's cancellation.
func isJobCanceledEntry(data []byte) bool {
	return len(data) >= 5 && record.Kind(data[1]) == record.Event &&
		record.ValueType(data[2]) == record.Job && record.Intent(data[3]) == record.Canceled
}

// decodeCloudEvent decodes a CloudEvent entry of partition p.
func decodeCloudEvent(p int, e storage.Entry) (*cloudevents.Event, error) {
	var r record.Record
	if err := record.Unmarshal(e.Data, &r); err != nil {
		return nil, fmt.Errorf("log partition %d position %d: %w", p, e.Position, err)
	}
	ev := new(cloudevents.Event)
	if err := cloudevents.Unmarshal(r.Value.Event, ev); err != nil {
		return nil, fmt.Errorf("log partition %d position %d: the CloudEvent of record %d: %w", p, e.Position, r.Key, err)
	}
	return ev, nil
}
