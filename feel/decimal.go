package feel

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number, unscaled × 10^-scale. Small values keep
// their unscaled part in an int64 (the fast path: no allocation); larger ones
// fall back to a big.Int. Arithmetic results are rounded half-even to 34
// significant digits (decimal128, as DMN and Zeebe's FEEL engine do); values
// read from JSON or source text are kept exactly as written.
//
// The zero value is 0. A Decimal is immutable.
type Decimal struct {
	u     int64    // unscaled value when b is nil
	b     *big.Int // unscaled value when it does not fit an int64; never mutated
	scale int32
}

const (
	precision = 34 // significant digits kept by arithmetic
	// Exponent range of decimal128: a value's least significant digit sits
	// at 10^-maxScale at the smallest, its most significant at 10^maxAdjusted
	// at the largest. Bounding it also bounds the work any operation does.
	maxScale    = 6176
	maxAdjusted = 6144
)

var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

var bigPow10Cache [64]*big.Int

func init() {
	p := big.NewInt(1)
	for i := range bigPow10Cache {
		bigPow10Cache[i] = new(big.Int).Set(p)
		p.Mul(p, big.NewInt(10))
	}
}

// bigPow10 returns 10^n; the result must not be mutated.
func bigPow10(n int64) *big.Int {
	if n < int64(len(bigPow10Cache)) {
		return bigPow10Cache[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil)
}

// DecimalFromInt returns the integer i as a Decimal.
func DecimalFromInt(i int64) Decimal { return Decimal{u: i} }

// DecimalFromBig returns unscaled × 10^-scale.
func DecimalFromBig(unscaled *big.Int, scale int32) Decimal {
	return mkDecimal(new(big.Int).Set(unscaled), scale)
}

// DecimalFromFloat returns the shortest decimal that reads back as f; NaN
// and infinities are not numbers.
func DecimalFromFloat(f float64) (Decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, false
	}
	return ParseDecimal(strconv.FormatFloat(f, 'g', -1, 64))
}

// mkDecimal normalises a big unscaled value (which it takes ownership of).
func mkDecimal(b *big.Int, scale int32) Decimal {
	if b.IsInt64() {
		return Decimal{u: b.Int64(), scale: scale}
	}
	return Decimal{b: b, scale: scale}
}

// ParseDecimal reads [-+]digits[.digits][e[-+]digits] (a leading or trailing
// '.' is allowed, as FEEL writes .5). The value is kept exactly.
func ParseDecimal(s string) (Decimal, bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var digits strings.Builder
	nd, scale := 0, int64(0)
	seenDot := false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits.WriteByte(c)
			nd++
			if seenDot {
				scale++
			}
			continue
		}
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		break
	}
	if nd == 0 {
		return Decimal{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		start := i
		exp := int64(0)
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if exp < 1e9 {
				exp = exp*10 + int64(s[i]-'0')
			}
		}
		if i == start {
			return Decimal{}, false
		}
		if eneg {
			scale += exp
		} else {
			scale -= exp
		}
	}
	if i != len(s) {
		return Decimal{}, false
	}
	ds := digits.String()
	var d Decimal
	if len(ds) <= 18 {
		u, _ := strconv.ParseInt(ds, 10, 64)
		if neg {
			u = -u
		}
		d = Decimal{u: u}
	} else {
		b, _ := new(big.Int).SetString(ds, 10)
		if neg {
			b.Neg(b)
		}
		d = mkDecimal(b, 0)
	}
	if d.isZero() {
		// The exponent of zero carries nothing; keep it in range.
		scale = max(min(scale, maxScale), -maxAdjusted)
	}
	if scale > maxScale || -scale+int64(nd)-1 > maxAdjusted {
		return Decimal{}, false
	}
	d.scale = int32(scale)
	return d, true
}

// MustDecimal is ParseDecimal for constants; it panics on bad input.
func MustDecimal(s string) Decimal {
	d, ok := ParseDecimal(s)
	if !ok {
		panic("feel: bad decimal " + strconv.Quote(s))
	}
	return d
}

func (d Decimal) isZero() bool { return d.b == nil && d.u == 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	if d.b != nil {
		return d.b.Sign()
	}
	switch {
	case d.u < 0:
		return -1
	case d.u > 0:
		return 1
	}
	return 0
}

// Scale returns the number of digits after the decimal point (negative for
// values such as 1E+3 that carry trailing zeros in their exponent).
func (d Decimal) Scale() int32 { return d.scale }

// Unscaled returns the unscaled value: d = Unscaled × 10^-Scale.
func (d Decimal) Unscaled() *big.Int { return new(big.Int).Set(d.bigU()) }

// bigU returns the unscaled value as a big.Int that must not be mutated.
func (d Decimal) bigU() *big.Int {
	if d.b != nil {
		return d.b
	}
	return big.NewInt(d.u)
}

// Int64 returns d as an int64 when it is an integer that fits.
func (d Decimal) Int64() (int64, bool) {
	if d.b == nil {
		if d.scale == 0 {
			return d.u, true
		}
		if d.scale < 0 {
			if -d.scale > 18 {
				return 0, d.u == 0
			}
			hi, lo := bits.Mul64(absU(d.u), uint64(pow10[-d.scale]))
			if hi != 0 || lo > math.MaxInt64 {
				return 0, false
			}
			if d.u < 0 {
				return -int64(lo), true
			}
			return int64(lo), true
		}
		if d.scale <= 18 && d.u%pow10[d.scale] == 0 {
			return d.u / pow10[d.scale], true
		}
		if d.scale > 18 && d.u == 0 {
			return 0, true
		}
		return 0, false
	}
	t := d.trunc()
	if t.Cmp(d) != 0 || t.b != nil {
		return 0, false
	}
	return t.Int64()
}

// IsInteger reports whether d has no fractional part.
func (d Decimal) IsInteger() bool {
	if d.scale <= 0 {
		return true
	}
	return d.trunc().Cmp(d) == 0
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.sci(), 64)
	return f
}

func absU(i int64) uint64 {
	if i < 0 {
		return uint64(-i)
	}
	return uint64(i)
}

// numDigits counts the decimal digits of |b| (1 for zero).
func numDigits(b *big.Int) int64 {
	if b.Sign() == 0 {
		return 1
	}
	if b.IsInt64() {
		return numDigitsU(absU(b.Int64()))
	}
	n := int64(float64(b.BitLen())*0.30102999566398120) + 1
	a := new(big.Int).Abs(b)
	for n > 1 && a.Cmp(bigPow10(n-1)) < 0 {
		n--
	}
	for a.Cmp(bigPow10(n)) >= 0 {
		n++
	}
	return n
}

func numDigitsU(u uint64) int64 {
	n := int64(1)
	for u >= 10 {
		u /= 10
		n++
	}
	return n
}

// finish rounds a big result to the working precision and checks its range;
// sticky reports that non-zero digits were already dropped below b.
func finish(b *big.Int, scale int64, sticky bool) (Decimal, bool) {
	nd := numDigits(b)
	if nd > precision {
		drop := nd - precision
		b, sticky = roundBig(b, drop, roundHalfEven, sticky)
		scale -= drop
		if numDigits(b) > precision { // 999.. rounded up to 1000..
			b.Quo(b, bigPow10(1))
			scale--
		}
	}
	if scale > maxScale { // underflow: round into the smallest exponent
		drop := scale - maxScale
		if drop > precision+1 {
			b.SetInt64(0)
		} else {
			b, _ = roundBig(b, drop, roundHalfEven, sticky)
		}
		scale = maxScale
	}
	if b.Sign() == 0 {
		return Decimal{scale: int32(max(min(scale, maxScale), 0))}, true
	}
	if -scale+numDigits(b)-1 > maxAdjusted {
		return Decimal{}, false
	}
	return mkDecimal(b, int32(scale)), true
}

type roundingMode uint8

const (
	roundHalfEven roundingMode = iota
	roundHalfUp                // ties away from zero
	roundHalfDown              // ties toward zero
	roundUp                    // away from zero
	roundDown                  // toward zero
	roundFloor
	roundCeiling
)

// roundBig divides b by 10^drop, rounding by mode; sticky means digits below
// b were already dropped and were not zero. It returns a new big.Int and
// whether the result is inexact.
func roundBig(b *big.Int, drop int64, mode roundingMode, sticky bool) (*big.Int, bool) {
	q, r := new(big.Int).QuoRem(b, bigPow10(drop), new(big.Int))
	if r.Sign() == 0 && !sticky {
		return q, false
	}
	neg := b.Sign() < 0
	// Compare 2|r| with 10^drop to place the dropped part against one half.
	half := new(big.Int).Abs(r)
	half.Lsh(half, 1)
	c := half.Cmp(bigPow10(drop))
	if c == 0 && sticky {
		c = 1
	}
	if roundAway(mode, neg, c, q.Bit(0) == 1) {
		if neg {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q, true
}

// roundAway decides whether an inexact quotient moves away from zero; c
// compares the dropped part with one half (-1 below, 0 equal, 1 above).
func roundAway(mode roundingMode, neg bool, c int, odd bool) bool {
	switch mode {
	case roundHalfEven:
		return c > 0 || (c == 0 && odd)
	case roundHalfUp:
		return c >= 0
	case roundHalfDown:
		return c > 0
	case roundUp:
		return true
	case roundDown:
		return false
	case roundFloor:
		return neg
	case roundCeiling:
		return !neg
	}
	return false
}

// Neg returns -d.
func (d Decimal) Neg() Decimal {
	if d.b == nil && d.u != math.MinInt64 {
		return Decimal{u: -d.u, scale: d.scale}
	}
	return mkDecimal(new(big.Int).Neg(d.bigU()), d.scale)
}

// Abs returns |d|.
func (d Decimal) Abs() Decimal {
	if d.Sign() < 0 {
		return d.Neg()
	}
	return d
}

// aligned returns both unscaled values at the larger of the two scales.
func aligned(a, b Decimal) (*big.Int, *big.Int, int64) {
	s := max(a.scale, b.scale)
	x := new(big.Int).Mul(a.bigU(), bigPow10(int64(s-a.scale)))
	y := new(big.Int).Mul(b.bigU(), bigPow10(int64(s-b.scale)))
	return x, y, int64(s)
}

// alignedFast brings two int64 unscaled values to a common scale when that
// fits an int64.
func alignedFast(a, b Decimal) (int64, int64, int32, bool) {
	if a.b != nil || b.b != nil {
		return 0, 0, 0, false
	}
	if a.scale == b.scale {
		return a.u, b.u, a.scale, true
	}
	if a.scale > b.scale {
		y, x, s, ok := alignedFast(b, a)
		return x, y, s, ok
	}
	d := b.scale - a.scale
	if d > 18 {
		return 0, 0, 0, false
	}
	x, ok := mulInt64(a.u, pow10[d])
	if !ok {
		return 0, 0, 0, false
	}
	y, s := b.u, b.scale
	return x, y, s, true
}

func mulInt64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(absU(a), absU(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if (a < 0) != (b < 0) {
		return -int64(lo), true
	}
	return int64(lo), true
}

// Cmp compares a and b numerically (1.0 equals 1).
func (a Decimal) Cmp(b Decimal) int {
	if x, y, _, ok := alignedFast(a, b); ok {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	sa, sb := a.Sign(), b.Sign()
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	x, y, _ := aligned(a, b)
	return x.Cmp(y)
}

// Add returns a + b; false when the result is out of range.
func (a Decimal) Add(b Decimal) (Decimal, bool) {
	if x, y, s, ok := alignedFast(a, b); ok {
		if r := x + y; (r > x) == (y > 0) {
			return Decimal{u: r, scale: s}, true
		}
	}
	x, y, s := aligned(a, b)
	return finish(x.Add(x, y), s, false)
}

// Sub returns a - b.
func (a Decimal) Sub(b Decimal) (Decimal, bool) { return a.Add(b.Neg()) }

// Mul returns a × b.
func (a Decimal) Mul(b Decimal) (Decimal, bool) {
	s := int64(a.scale) + int64(b.scale)
	if a.b == nil && b.b == nil && s <= maxScale && s >= -maxAdjusted {
		if r, ok := mulInt64(a.u, b.u); ok {
			return Decimal{u: r, scale: int32(s)}, true
		}
	}
	return finish(new(big.Int).Mul(a.bigU(), b.bigU()), s, false)
}

// Quo returns a / b rounded to 34 significant digits; an exact quotient
// keeps the scale closest to a.scale - b.scale (10 / 4 = 2.5, 6 / 2 = 3).
// Division by zero is not a number (false).
func (a Decimal) Quo(b Decimal) (Decimal, bool) {
	if b.Sign() == 0 {
		return Decimal{}, false
	}
	preferred := int64(a.scale) - int64(b.scale)
	if a.Sign() == 0 {
		return finish(new(big.Int), max(preferred, 0), false)
	}
	ua, ub := a.bigU(), b.bigU()
	k := precision + 1 + numDigits(ub) - numDigits(ua)
	k = max(k, 0)
	num := new(big.Int).Mul(ua, bigPow10(k))
	q, r := new(big.Int).QuoRem(num, ub, new(big.Int))
	scale := preferred + k
	if r.Sign() != 0 {
		return finish(q, scale, true)
	}
	// Exact: drop trailing zeros down to the preferred scale.
	q, scale = stripZeros(q, scale, preferred)
	return finish(q, scale, false)
}

// stripZeros removes trailing zero digits while the scale stays above floor.
func stripZeros(q *big.Int, scale, floor int64) (*big.Int, int64) {
	if q.Sign() == 0 {
		return q, max(min(scale, floor), 0)
	}
	ten := big.NewInt(10)
	r := new(big.Int)
	t := new(big.Int)
	for scale > floor {
		t.QuoRem(q, ten, r)
		if r.Sign() != 0 {
			break
		}
		q.Set(t)
		scale--
	}
	return q, scale
}

// Normalize removes trailing zeros from the fractional part (2.50 → 2.5,
// 3.0 → 3).
func (d Decimal) Normalize() Decimal {
	if d.scale <= 0 {
		return d
	}
	if d.b == nil {
		u, s := d.u, d.scale
		for s > 0 && u%10 == 0 {
			u /= 10
			s--
		}
		return Decimal{u: u, scale: s}
	}
	q, s := stripZeros(new(big.Int).Set(d.b), int64(d.scale), 0)
	return mkDecimal(q, int32(s))
}

// Round returns d with the given number of fractional digits, rounded by
// mode (a larger scale pads with zeros); false when out of range.
func (d Decimal) round(scale int64, mode roundingMode) (Decimal, bool) {
	if scale > maxScale || scale < -maxAdjusted {
		return Decimal{}, false
	}
	if int64(d.scale) <= scale {
		diff := scale - int64(d.scale)
		if d.b == nil && diff <= 18 {
			if u, ok := mulInt64(d.u, pow10[diff]); ok {
				return Decimal{u: u, scale: int32(scale)}, true
			}
		}
		b := new(big.Int).Mul(d.bigU(), bigPow10(diff))
		if -scale+numDigits(b)-1 > maxAdjusted {
			return Decimal{}, false
		}
		return mkDecimal(b, int32(scale)), true
	}
	drop := int64(d.scale) - scale
	if d.b == nil && drop <= 18 {
		p := pow10[drop]
		q, r := d.u/p, d.u%p
		if r != 0 {
			ar := absU(r)
			c := 0
			switch h := uint64(p) / 2; {
			case ar > h:
				c = 1
			case ar < h:
				c = -1
			}
			if roundAway(mode, d.u < 0, c, q%2 != 0) {
				if d.u < 0 {
					q--
				} else {
					q++
				}
			}
		}
		return Decimal{u: q, scale: int32(scale)}, true
	}
	if drop > numDigits(d.bigU())+1 {
		// Every digit is dropped: the result is 0 or one unit at scale.
		q := new(big.Int)
		if roundAway(mode, d.Sign() < 0, -1, false) {
			q.SetInt64(int64(d.Sign()))
		}
		return mkDecimal(q, int32(scale)), true
	}
	q, _ := roundBig(d.bigU(), drop, mode, false)
	return mkDecimal(q, int32(scale)), true
}

// trunc returns the integer part of d (toward zero).
func (d Decimal) trunc() Decimal { return d.toInteger(roundDown) }

// Floor returns the largest integer not above d.
func (d Decimal) Floor() Decimal { return d.toInteger(roundFloor) }

// Ceil returns the smallest integer not below d.
func (d Decimal) Ceil() Decimal { return d.toInteger(roundCeiling) }

func (d Decimal) toInteger(mode roundingMode) Decimal {
	if d.scale <= 0 {
		return d
	}
	r, _ := d.round(0, mode)
	return r
}

// Mod returns a - b × floor(a / b), exactly (the sign follows b, as FEEL's
// modulo does); false when b is zero.
func (a Decimal) Mod(b Decimal) (Decimal, bool) {
	if b.Sign() == 0 {
		return Decimal{}, false
	}
	x, y, s := aligned(a, b)
	_, r := new(big.Int).QuoRem(x, y, new(big.Int))
	if r.Sign() != 0 && (r.Sign() < 0) != (y.Sign() < 0) {
		r.Add(r, y)
	}
	return finish(r, s, false)
}

// powInt returns d^n by repeated squaring, rounding as multiplication does.
func (d Decimal) powInt(n int64) (Decimal, bool) {
	if n < 0 {
		p, ok := d.powInt(-n)
		if !ok {
			return Decimal{}, false
		}
		return Decimal{u: 1}.Quo(p)
	}
	result := Decimal{u: 1}
	base := d
	for n > 0 {
		var ok bool
		if n&1 == 1 {
			if result, ok = result.Mul(base); !ok {
				return Decimal{}, false
			}
		}
		n >>= 1
		if n > 0 {
			if base, ok = base.Mul(base); !ok {
				return Decimal{}, false
			}
		}
	}
	return result, true
}

// Sqrt returns the square root rounded to 34 digits; false for negatives.
func (d Decimal) Sqrt() (Decimal, bool) {
	switch d.Sign() {
	case -1:
		return Decimal{}, false
	case 0:
		return Decimal{}, true
	}
	// Integer square root of unscaled × 10^(2k) gives the digits at scale
	// (scale+2k)/2; choose k for 36+ digits and an even total scale.
	u := d.bigU()
	k := max(int64(precision+2)-numDigits(u)/2, 0)
	s := int64(d.scale) + 2*k
	n := new(big.Int).Mul(u, bigPow10(2*k))
	if s%2 != 0 {
		n.Mul(n, big.NewInt(10))
		s++
	}
	r := new(big.Int).Sqrt(n)
	exact := new(big.Int).Mul(r, r).Cmp(n) == 0
	rs := s / 2
	if exact {
		r, rs = stripZeros(r, rs, int64(d.scale)/2)
	}
	return finish(r, rs, !exact)
}

// String formats d in plain notation (1.50, -0.001, 1000), switching to
// scientific notation (1.5E+400) only for very large or small exponents.
func (d Decimal) String() string {
	digits := d.bigU().String()
	neg := strings.HasPrefix(digits, "-")
	if neg {
		digits = digits[1:]
	}
	var s string
	switch sc := int64(d.scale); {
	case sc == 0 || sc < 0 && digits == "0":
		s = digits
	case sc < 0 && -sc <= 64:
		s = digits + strings.Repeat("0", int(-sc))
	case sc > 0 && sc < int64(len(digits)):
		s = digits[:int64(len(digits))-sc] + "." + digits[int64(len(digits))-sc:]
	case sc > 0 && sc-int64(len(digits)) <= 64: // 0.0ddd
		s = "0." + strings.Repeat("0", int(sc-int64(len(digits)))) + digits
	default:
		s = sciDigits(digits, sc)
	}
	if neg {
		return "-" + s
	}
	return s
}

// sci formats d in scientific notation (for strconv).
func (d Decimal) sci() string {
	digits := d.bigU().String()
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	return sign + digits + "E" + strconv.FormatInt(-int64(d.scale), 10)
}

func sciDigits(digits string, scale int64) string {
	exp := int64(len(digits)) - 1 - scale
	mant := digits[:1]
	if len(digits) > 1 {
		mant += "." + digits[1:]
	}
	if exp >= 0 {
		return mant + "E+" + strconv.FormatInt(exp, 10)
	}
	return mant + "E" + strconv.FormatInt(exp, 10)
}
