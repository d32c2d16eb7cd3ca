package record

import (
	"errors"
	"reflect"
	"testing"
)

func sampleRecords() []Record {
	return []Record{
		{Kind: Command, ValueType: ProcessInstanceCreation, Intent: Create, Key: -1},
		{Kind: Event, ValueType: ProcessInstance, Intent: ElementActivated, Key: Key(2, 77), SourcePosition: 12,
			Value: Value{BpmnProcessID: "order", Version: 3, ProcessDefinitionKey: Key(0, 5), ProcessInstanceKey: Key(2, 70),
				ElementID: "ship", ElementType: "SERVICE_TASK", FlowScopeKey: Key(2, 70), Element: 4}},
		{Kind: Rejection, ValueType: Job, Intent: Complete, Key: Key(1, 9), Rejection: NotFound,
			Reason: "Expected to complete job with key '9', but no such job was found"},
		{Kind: Command, ValueType: MessageSubscription, Intent: Create, Target: 2, Key: Key(0, 1),
			Value: Value{Name: "paid", CorrelationKey: "o-1", Interrupting: true, Local: true, Variables: []byte(`{"a":1}`),
				FetchVariables: []string{"a", "", "b"}, Tags: []string{"x"}, Retries: -3, TTL: 1 << 40}},
		{Kind: Event, ValueType: Deployment, Intent: Created, Key: Key(0, 3),
			Value: Value{Resources: []Resource{{Name: "a.bpmn", Content: []byte("<xml/>")}, {Name: "empty"}},
				Processes: []ProcessMeta{{BpmnProcessID: "a", Version: 1, ProcessDefinitionKey: 9, ResourceName: "a.bpmn", Checksum: []byte{1, 2}, Duplicate: true}}}},
		{Kind: Command, ValueType: ProcessInstanceModification, Intent: Modify,
			Value: Value{Instructions: []Instruction{{Activate: true, ElementID: "x", AncestorKey: 4, Variables: []byte("{}")}, {ElementInstanceKey: 8}}}},
		{Kind: Event, ValueType: Message, Intent: Expired, Key: Key(2, 6), Value: Value{Name: "paid", Deadline: 1700000000000, Uncorrelated: true}},
		{Kind: Event, ValueType: CloudEvent, Intent: Published, Key: Key(1, 4),
			Value: Value{Name: "com.example.paid", Source: "/payments", MessageID: "e-1", CorrelationKey: "o-1", Event: []byte{1, 0, 7}}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, want := range sampleRecords() {
		t.Run(want.ValueType.String()+"/"+want.Intent.String(), func(t *testing.T) {
			data := Marshal(&want)
			var got Record
			if err := Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, want)
			}
			// Decoding must not alias the input.
			for i := range data {
				data[i] = 0xff
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatal("decoded record aliases the encoded bytes")
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	good := Marshal(&sampleRecords()[1])
	cases := map[string][]byte{
		"empty":          nil,
		"short header":   {1, 2, 3},
		"unknown format": append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-3],
		"bad length":     append(append([]byte{}, good[:9]...), 0x03, 0xff, 0xff, 0x7f),
	}
	for name, data := range cases {
		var r Record
		err := Unmarshal(data, &r)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestUnknownFieldsAreSkipped(t *testing.T) {
	r := sampleRecords()[1]
	data := Marshal(&r)
	// A newer writer's field 99 as varint and 98 as bytes.
	data = append(data, 99<<1&0x7f|0x80, 1, 5)
	data = append(data, 0xc4, 0x01, 2, 'h', 'i')
	var got Record
	if err := Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("got %+v", got)
	}
}

func TestKeys(t *testing.T) {
	for _, p := range []int{0, 1, 7, MaxPartitions - 1} {
		k := Key(p, 12345)
		if PartitionOf(k) != p || KeyCounter(k) != 12345 || k <= 0 && p > 0 {
			t.Errorf("Key(%d, 12345) = %d: partition %d counter %d", p, k, PartitionOf(k), KeyCounter(k))
		}
	}
	if err := CheckKey(Key(3, 1), 3); err == nil {
		t.Error("a key of partition 3 passed in a 3-partition cluster")
	}
	if err := CheckKey(0, 3); err == nil {
		t.Error("key 0 passed")
	}
	if err := CheckKey(Key(2, 1), 3); err != nil {
		t.Error(err)
	}
}

func TestNames(t *testing.T) {
	if ElementActivated.String() != "ELEMENT_ACTIVATED" || Intent(250).String() != "Intent(250)" {
		t.Errorf("intent names: %s %s", ElementActivated, Intent(250))
	}
	if !Completed.IsEvent() || Complete.IsEvent() {
		t.Error("IsEvent")
	}
	for i := Create; i <= Ticked; i++ {
		if intentNames[i] == "" {
			t.Errorf("intent %d has no name", i)
		}
	}
	for v := Deployment; v <= Clock; v++ {
		if valueTypeNames[v] == "" {
			t.Errorf("value type %d has no name", v)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, r := range sampleRecords() {
		f.Add(Marshal(&r))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		if err := Unmarshal(data, &r); err != nil {
			return
		}
		// What decodes must re-encode to something that decodes the same.
		var again Record
		if err := Unmarshal(Marshal(&r), &again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("re-encoding changed the record:\n%+v\n%+v", r, again)
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	r := sampleRecords()[1]
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkUnmarshal(b *testing.B) {
	r := sampleRecords()[1]
	data := Marshal(&r)
	var got Record
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Unmarshal(data, &got); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPeekCommandTarget(t *testing.T) {
	for _, r := range sampleRecords() {
		target, ok := PeekCommandTarget(Marshal(&r))
		if ok != (r.Kind == Command) || ok && target != r.Target {
			t.Errorf("%s %s %s: peek says target %d, command %v; want target %d", r.Kind, r.ValueType, r.Intent, target, ok, r.Target)
		}
	}
	for _, bad := range [][]byte{nil, {formatV1, byte(Command), 1, 1, 0}, {9, byte(Command), 1, 1, 0, 2}, {formatV1, byte(Command), 1, 1, 0, 0x80}} {
		if _, ok := PeekCommandTarget(bad); ok {
			t.Errorf("peek read a target from %v", bad)
		}
	}
}
