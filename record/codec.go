package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The encoding: a format byte, a fixed header of varints, then the value's
// non-zero fields, each a tag (field number << 1 | wire type) followed by a
// zig-zag varint (wire type 0) or a length-prefixed byte string (wire type 1).
// Unknown fields are skipped, so readers tolerate records written by newer
// versions.
const formatV1 = 1

const (
	wireVarint = 0
	wireBytes  = 1
)

// Field numbers. Never reuse a number: records outlive the code.
const (
	fBpmnProcessID = iota + 1
	fVersion
	fProcessDefinitionKey
	fProcessInstanceKey
	fElementID
	fElementType
	fFlowScopeKey
	fElementInstanceKey
	fParentProcessInstanceKey
	fParentElementInstanceKey
	fVariables
	fName
	fCorrelationKey
	fMessageID
	fMessageKey
	fTTL
	fDeadline
	fJobType
	fJobKey
	fWorker
	fRetries
	fRetryBackoff
	fTimeout
	fMaxJobs
	fErrorCode
	fErrorMessage
	fErrorType
	fCustomHeaders
	fJSONValue
	fRepetitions
	fTargetElementID
	fInterrupting
	fLocal
	fFetchVariable
	fResource
	fProcess
	fInstruction
	fTag
	fRequestTimeout
	fChecksum
	fResourceName
	fDuplicate
	fScopeKey
	fIncidentKey
	fElement
	fSource
	fEvent
	fUncorrelated
)

// Append encodes r (all but Position, Timestamp and Partition) onto dst.
func Append(dst []byte, r *Record) []byte {
	dst = append(dst, formatV1, byte(r.Kind), byte(r.ValueType), byte(r.Intent), byte(r.Rejection))
	dst = binary.AppendUvarint(dst, uint64(r.Target))
	dst = binary.AppendVarint(dst, r.Key)
	dst = binary.AppendUvarint(dst, r.SourcePosition)
	dst = appendBytes(dst, []byte(r.Reason))
	return appendValue(dst, &r.Value)
}

// Marshal encodes r into a new slice.
func Marshal(r *Record) []byte { return Append(make([]byte, 0, 128), r) }

func appendValue(d []byte, v *Value) []byte {
	d = putStr(d, fBpmnProcessID, v.BpmnProcessID)
	d = putInt(d, fVersion, int64(v.Version))
	d = putInt(d, fProcessDefinitionKey, v.ProcessDefinitionKey)
	d = putInt(d, fProcessInstanceKey, v.ProcessInstanceKey)
	d = putStr(d, fElementID, v.ElementID)
	d = putStr(d, fElementType, v.ElementType)
	d = putInt(d, fFlowScopeKey, v.FlowScopeKey)
	d = putInt(d, fElementInstanceKey, v.ElementInstanceKey)
	d = putInt(d, fParentProcessInstanceKey, v.ParentProcessInstanceKey)
	d = putInt(d, fParentElementInstanceKey, v.ParentElementInstanceKey)
	d = putBytes(d, fVariables, v.Variables)
	d = putStr(d, fName, v.Name)
	d = putStr(d, fCorrelationKey, v.CorrelationKey)
	d = putStr(d, fMessageID, v.MessageID)
	d = putInt(d, fMessageKey, v.MessageKey)
	d = putInt(d, fTTL, v.TTL)
	d = putInt(d, fDeadline, v.Deadline)
	d = putStr(d, fJobType, v.JobType)
	d = putInt(d, fJobKey, v.JobKey)
	d = putStr(d, fWorker, v.Worker)
	d = putInt(d, fRetries, int64(v.Retries))
	d = putInt(d, fRetryBackoff, v.RetryBackoff)
	d = putInt(d, fTimeout, v.Timeout)
	d = putInt(d, fMaxJobs, int64(v.MaxJobs))
	d = putStr(d, fErrorCode, v.ErrorCode)
	d = putStr(d, fErrorMessage, v.ErrorMessage)
	d = putStr(d, fErrorType, v.ErrorType)
	d = putBytes(d, fCustomHeaders, v.CustomHeaders)
	d = putBytes(d, fJSONValue, v.JSONValue)
	d = putInt(d, fRepetitions, int64(v.Repetitions))
	d = putStr(d, fTargetElementID, v.TargetElementID)
	d = putBool(d, fInterrupting, v.Interrupting)
	d = putBool(d, fLocal, v.Local)
	for _, s := range v.FetchVariables {
		d = putField(d, fFetchVariable, []byte(s))
	}
	for i := range v.Resources {
		r := &v.Resources[i]
		sub := putStr(nil, 1, r.Name)
		sub = putBytes(sub, 2, r.Content)
		d = putField(d, fResource, sub)
	}
	for i := range v.Processes {
		p := &v.Processes[i]
		sub := putStr(nil, 1, p.BpmnProcessID)
		sub = putInt(sub, 2, int64(p.Version))
		sub = putInt(sub, 3, p.ProcessDefinitionKey)
		sub = putStr(sub, 4, p.ResourceName)
		sub = putBytes(sub, 5, p.Checksum)
		sub = putBool(sub, 6, p.Duplicate)
		d = putField(d, fProcess, sub)
	}
	for i := range v.Instructions {
		in := &v.Instructions[i]
		sub := putBool(nil, 1, in.Activate)
		sub = putStr(sub, 2, in.ElementID)
		sub = putInt(sub, 3, in.ElementInstanceKey)
		sub = putInt(sub, 4, in.AncestorKey)
		sub = putBytes(sub, 5, in.Variables)
		d = putField(d, fInstruction, sub)
	}
	for _, s := range v.Tags {
		d = putField(d, fTag, []byte(s))
	}
	d = putInt(d, fRequestTimeout, v.RequestTimeout)
	d = putBytes(d, fChecksum, v.Checksum)
	d = putStr(d, fResourceName, v.ResourceName)
	d = putBool(d, fDuplicate, v.Duplicate)
	d = putInt(d, fScopeKey, v.ScopeKey)
	d = putInt(d, fIncidentKey, v.IncidentKey)
	d = putInt(d, fElement, int64(v.Element))
	d = putStr(d, fSource, v.Source)
	d = putBytes(d, fEvent, v.Event)
	d = putBool(d, fUncorrelated, v.Uncorrelated)
	return d
}

func putInt(d []byte, f int, v int64) []byte {
	if v == 0 {
		return d
	}
	d = binary.AppendUvarint(d, uint64(f)<<1|wireVarint)
	return binary.AppendVarint(d, v)
}

func putBool(d []byte, f int, v bool) []byte {
	if !v {
		return d
	}
	return putInt(d, f, 1)
}

func putStr(d []byte, f int, s string) []byte {
	if s == "" {
		return d
	}
	d = binary.AppendUvarint(d, uint64(f)<<1|wireBytes)
	d = binary.AppendUvarint(d, uint64(len(s)))
	return append(d, s...)
}

func putBytes(d []byte, f int, b []byte) []byte {
	if len(b) == 0 {
		return d
	}
	return putField(d, f, b)
}

// putField writes a bytes field even when empty: list elements must keep
// their count.
func putField(d []byte, f int, b []byte) []byte {
	d = binary.AppendUvarint(d, uint64(f)<<1|wireBytes)
	return appendBytes(d, b)
}

func appendBytes(d, b []byte) []byte {
	d = binary.AppendUvarint(d, uint64(len(b)))
	return append(d, b...)
}

// PeekCommandTarget reads, without decoding the record, whether data is a
// command and the partition it is addressed to: readers of another
// partition's log skip the commands that are not theirs for the price of a
// varint.
func PeekCommandTarget(data []byte) (target int, command bool) {
	if h, ok := PeekHeader(data); !ok || h.Kind != Command || len(data) < 6 {
		return 0, false
	}
	t, n := binary.Uvarint(data[5:])
	if n <= 0 {
		return 0, false
	}
	return int(t), true
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed record")

// Unmarshal decodes data into r. Position, Timestamp and Partition are left
// as they are: the log knows them. Byte slices in r are copies, so data may
// be reused.
func Unmarshal(data []byte, r *Record) error {
	d := decoder{buf: data}
	if len(data) < 5 {
		return fmt.Errorf("%w: %d bytes is shorter than a header", ErrMalformed, len(data))
	}
	if data[0] != formatV1 {
		return fmt.Errorf("%w: unknown format %d", ErrMalformed, data[0])
	}
	r.Kind, r.ValueType, r.Intent, r.Rejection = Kind(data[1]), ValueType(data[2]), Intent(data[3]), RejectionType(data[4])
	d.off = 5
	r.Target = int(d.uvarint())
	r.Key = d.varint()
	r.SourcePosition = d.uvarint()
	r.Reason = string(d.bytes())
	r.Value = Value{}
	if d.err != nil {
		return d.err
	}
	return d.value(&r.Value)
}

type decoder struct {
	buf []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, d.off)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// bytes returns a length-prefixed byte string, aliasing the buffer.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.buf)-d.off) {
		d.fail(fmt.Sprintf("length %d beyond the end", n))
		return nil
	}
	b := d.buf[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// fields calls fn for each field until the buffer ends; fn reads the field's
// payload with d.varint or d.bytes according to the wire type.
func (d *decoder) fields(fn func(field int, wire int)) error {
	for d.err == nil && d.off < len(d.buf) {
		tag := d.uvarint()
		if d.err != nil {
			break
		}
		field, wire := int(tag>>1), int(tag&1)
		before := d.off
		fn(field, wire)
		if d.err == nil && d.off == before {
			// fn did not consume an unknown field: skip it.
			if wire == wireVarint {
				d.varint()
			} else {
				d.bytes()
			}
		}
	}
	return d.err
}

func (d *decoder) value(v *Value) error {
	return d.fields(func(f, w int) {
		if w == wireVarint {
			x := d.varint()
			switch f {
			case fVersion:
				v.Version = int32(x)
			case fProcessDefinitionKey:
				v.ProcessDefinitionKey = x
			case fProcessInstanceKey:
				v.ProcessInstanceKey = x
			case fFlowScopeKey:
				v.FlowScopeKey = x
			case fElementInstanceKey:
				v.ElementInstanceKey = x
			case fParentProcessInstanceKey:
				v.ParentProcessInstanceKey = x
			case fParentElementInstanceKey:
				v.ParentElementInstanceKey = x
			case fMessageKey:
				v.MessageKey = x
			case fTTL:
				v.TTL = x
			case fDeadline:
				v.Deadline = x
			case fJobKey:
				v.JobKey = x
			case fRetries:
				v.Retries = int32(x)
			case fRetryBackoff:
				v.RetryBackoff = x
			case fTimeout:
				v.Timeout = x
			case fMaxJobs:
				v.MaxJobs = int32(x)
			case fRepetitions:
				v.Repetitions = int32(x)
			case fInterrupting:
				v.Interrupting = x != 0
			case fLocal:
				v.Local = x != 0
			case fRequestTimeout:
				v.RequestTimeout = x
			case fDuplicate:
				v.Duplicate = x != 0
			case fUncorrelated:
				v.Uncorrelated = x != 0
			case fScopeKey:
				v.ScopeKey = x
			case fIncidentKey:
				v.IncidentKey = x
			case fElement:
				v.Element = int32(x)
			}
			return
		}
		b := d.bytes()
		if d.err != nil {
			return
		}
		switch f {
		case fBpmnProcessID:
			v.BpmnProcessID = string(b)
		case fElementID:
			v.ElementID = string(b)
		case fElementType:
			v.ElementType = string(b)
		case fVariables:
			v.Variables = cloneBytes(b)
		case fName:
			v.Name = string(b)
		case fCorrelationKey:
			v.CorrelationKey = string(b)
		case fMessageID:
			v.MessageID = string(b)
		case fJobType:
			v.JobType = string(b)
		case fWorker:
			v.Worker = string(b)
		case fErrorCode:
			v.ErrorCode = string(b)
		case fErrorMessage:
			v.ErrorMessage = string(b)
		case fErrorType:
			v.ErrorType = string(b)
		case fCustomHeaders:
			v.CustomHeaders = cloneBytes(b)
		case fJSONValue:
			v.JSONValue = cloneBytes(b)
		case fTargetElementID:
			v.TargetElementID = string(b)
		case fFetchVariable:
			v.FetchVariables = append(v.FetchVariables, string(b))
		case fTag:
			v.Tags = append(v.Tags, string(b))
		case fChecksum:
			v.Checksum = cloneBytes(b)
		case fResourceName:
			v.ResourceName = string(b)
		case fSource:
			v.Source = string(b)
		case fEvent:
			v.Event = cloneBytes(b)
		case fResource:
			var r Resource
			d.sub(b, func(s *decoder, f, w int) {
				switch {
				case f == 1 && w == wireBytes:
					r.Name = string(s.bytes())
				case f == 2 && w == wireBytes:
					r.Content = cloneBytes(s.bytes())
				}
			})
			v.Resources = append(v.Resources, r)
		case fProcess:
			var p ProcessMeta
			d.sub(b, func(s *decoder, f, w int) {
				switch {
				case f == 1 && w == wireBytes:
					p.BpmnProcessID = string(s.bytes())
				case f == 2 && w == wireVarint:
					p.Version = int32(s.varint())
				case f == 3 && w == wireVarint:
					p.ProcessDefinitionKey = s.varint()
				case f == 4 && w == wireBytes:
					p.ResourceName = string(s.bytes())
				case f == 5 && w == wireBytes:
					p.Checksum = cloneBytes(s.bytes())
				case f == 6 && w == wireVarint:
					p.Duplicate = s.varint() != 0
				}
			})
			v.Processes = append(v.Processes, p)
		case fInstruction:
			var in Instruction
			d.sub(b, func(s *decoder, f, w int) {
				switch {
				case f == 1 && w == wireVarint:
					in.Activate = s.varint() != 0
				case f == 2 && w == wireBytes:
					in.ElementID = string(s.bytes())
				case f == 3 && w == wireVarint:
					in.ElementInstanceKey = s.varint()
				case f == 4 && w == wireVarint:
					in.AncestorKey = s.varint()
				case f == 5 && w == wireBytes:
					in.Variables = cloneBytes(s.bytes())
				}
			})
			v.Instructions = append(v.Instructions, in)
		}
	})
}

// sub decodes a nested message held in b, reporting its errors on d.
func (d *decoder) sub(b []byte, fn func(s *decoder, field, wire int)) {
	s := &decoder{buf: b}
	if err := s.fields(func(f, w int) { fn(s, f, w) }); err != nil && d.err == nil {
		d.err = err
	}
}

// AppendValue encodes v alone onto dst, in the record codec's tagged form,
// for stores that keep a Value outside a record (the engine's state rows).
func AppendValue(dst []byte, v *Value) []byte { return appendValue(dst, v) }

// UnmarshalValue decodes what AppendValue wrote. Byte slices in v are
// copies.
func UnmarshalValue(data []byte, v *Value) error {
	*v = Value{}
	d := decoder{buf: data}
	return d.value(v)
}
