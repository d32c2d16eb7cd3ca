package processor

import "fmt"

// progress is what the token store keeps for one segment: one cursor, or two
// while a merge is advancing both former halves until they meet (Axon's
// merged token). It is stored as the segment's token bytes.
type progress struct {
	cursors []cursor
}

// cursor is how far one line of processing has got, and the replay it is in,
// if any (Axon's replay token).
type cursor struct {
	pos    Token
	replay *replay
}

// replay marks a cursor reset behind where it had got: the events that until
// covers were handled before and are replays. The marker drops once the
// cursor covers until.
type replay struct {
	until   Token
	context []byte
}

func newProgress(pos Token) progress { return progress{cursors: []cursor{{pos: pos}}} }

// position is the lowest point the segment has certainly reached: where a
// stream for it must open.
func (p progress) position() Token {
	t := p.cursors[0].pos
	for _, c := range p.cursors[1:] {
		t = t.Lower(c.pos)
	}
	return t
}

// reached is the highest point any cursor has got to.
func (p progress) reached() Token {
	t := p.cursors[0].pos
	for _, c := range p.cursors[1:] {
		t = t.Upper(c.pos)
	}
	return t
}

func (p progress) merging() bool { return len(p.cursors) > 1 }

func (p progress) replaying() bool {
	for _, c := range p.cursors {
		if c.replay != nil {
			return true
		}
	}
	return false
}

// settle drops replay markers the cursors have passed and folds the halves
// of a merge into one cursor once they meet.
func (p *progress) settle() {
	for i := range p.cursors {
		c := &p.cursors[i]
		if c.replay != nil && c.pos.CoversToken(c.replay.until) {
			c.replay = nil
		}
	}
	if len(p.cursors) == 2 {
		a, b := p.cursors[0], p.cursors[1]
		if a.pos.Equal(b.pos) && sameReplay(a.replay, b.replay) {
			p.cursors = p.cursors[:1]
		}
	}
}

func sameReplay(a, b *replay) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.until.Equal(b.until) && string(a.context) == string(b.context)
}

// clone copies p deeply enough that raising the copy's tokens in place
// leaves p alone.
func (p progress) clone() progress {
	q := progress{cursors: make([]cursor, len(p.cursors))}
	for i, c := range p.cursors {
		q.cursors[i] = cursor{pos: c.pos.clone(), replay: c.replay}
	}
	return q
}

const progressVersion = 1

const maxResetContext = 1 << 20

// encode returns the bytes the token store keeps.
func (p progress) encode() []byte {
	b := make([]byte, 0, 32)
	b = append(b, progressVersion, byte(len(p.cursors)))
	for _, c := range p.cursors {
		b = c.pos.appendBinary(b)
		if c.replay == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = c.replay.until.appendBinary(b)
		b = appendBytes(b, c.replay.context)
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	b = appendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// decodeProgress parses a segment's stored token. nil (a segment created
// without a token) is the tail.
func decodeProgress(data []byte) (progress, error) {
	if len(data) == 0 {
		return newProgress(Token{}), nil
	}
	d := decoder{buf: data, what: "segment token"}
	v, err := d.byte("version")
	if err != nil {
		return progress{}, err
	}
	if v != progressVersion {
		return progress{}, d.fail("unknown segment token version %d (this build knows %d)", v, progressVersion)
	}
	n, err := d.byte("cursor count")
	if err != nil {
		return progress{}, err
	}
	if n != 1 && n != 2 {
		return progress{}, d.fail("%d cursors, want 1, or 2 during a merge", n)
	}
	p := progress{cursors: make([]cursor, n)}
	for i := range p.cursors {
		c := &p.cursors[i]
		if c.pos, err = d.token(); err != nil {
			return progress{}, fmt.Errorf("cursor %d: %w", i, err)
		}
		flag, err := d.byte("replay flag")
		if err != nil {
			return progress{}, err
		}
		switch flag {
		case 0:
		case 1:
			c.replay = &replay{}
			if c.replay.until, err = d.token(); err != nil {
				return progress{}, fmt.Errorf("cursor %d: replay point: %w", i, err)
			}
			ctx, err := d.bytes("reset context", maxResetContext)
			if err != nil {
				return progress{}, err
			}
			c.replay.context = append([]byte(nil), ctx...)
		default:
			return progress{}, d.fail("cursor %d: replay flag %d, want 0 or 1", i, flag)
		}
	}
	if d.off != len(data) {
		return progress{}, d.fail("%d trailing bytes", len(data)-d.off)
	}
	return p, nil
}
