package record

import "testing"

func TestPeekHeader(t *testing.T) {
	for _, r := range sampleRecords() {
		h, ok := PeekHeader(Marshal(&r))
		if !ok || h != (Header{r.Kind, r.ValueType, r.Intent}) {
			t.Errorf("%s %s %s: peek says %+v, %v", r.Kind, r.ValueType, r.Intent, h, ok)
		}
		if !h.Is(r.Kind, r.ValueType, r.Intent) || h.Is(r.Kind, r.ValueType, r.Intent+1) {
			t.Errorf("%+v: Is does not tell its own header from another intent", h)
		}
	}
	for _, bad := range [][]byte{nil, {formatV1}, {formatV1, byte(Event), byte(CloudEvent), byte(Published)}, {9, byte(Event), byte(CloudEvent), byte(Published), 0, 0}} {
		if h, ok := PeekHeader(bad); ok {
			t.Errorf("peek read %+v from %v", h, bad)
		}
	}
}

// FuzzPeekHeader holds the peek to Unmarshal: whatever decodes peeks ok
// with the decoded header, and nothing panics.
func FuzzPeekHeader(f *testing.F) {
	for _, r := range sampleRecords() {
		f.Add(Marshal(&r))
	}
	f.Add([]byte{formatV1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, ok := PeekHeader(data)
		var r Record
		if err := Unmarshal(data, &r); err != nil {
			return
		}
		if !ok || h != (Header{r.Kind, r.ValueType, r.Intent}) {
			t.Fatalf("Unmarshal decoded %s %s %s; the peek says %+v, %v", r.Kind, r.ValueType, r.Intent, h, ok)
		}
	})
}

func BenchmarkPeekHeader(b *testing.B) {
	r := sampleRecords()[1]
	data := Marshal(&r)
	for b.Loop() {
		if h, ok := PeekHeader(data); !ok || h.Is(Event, CloudEvent, Published) {
			b.Fatal("wrong peek")
		}
	}
}
