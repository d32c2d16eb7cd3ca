package broker

import (
	"fmt"

	"eddy/cloudevents"
	"eddy/record"
	"eddy/storage"
)

// isCloudEventEntry tells from a log entry's header, without decoding it,
// whether it is a CloudEvent the broker accepted: the broker's log readers
// skip every other record for the price of a few byte reads.
func isCloudEventEntry(data []byte) bool {
	h, ok := record.PeekHeader(data)
	return ok && h.Is(record.Event, record.CloudEvent, record.Published)
}

// isJobEndedEntry tells whether a log entry is the end of a job: canceled,
// completed or an error thrown.
func isJobEndedEntry(data []byte) bool {
	h, ok := record.PeekHeader(data)
	return ok && (h.Is(record.Event, record.Job, record.Canceled) || h.Is(record.Event, record.Job, record.Completed) ||
		h.Is(record.Event, record.Job, record.ErrorThrown))
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
