package pg

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Type OIDs the embedded server knows, from PostgreSQL's pg_type.
const (
	oidBool        uint32 = 16
	oidName        uint32 = 19
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidUnknown     uint32 = 705
	oidVarchar     uint32 = 1043
	oidTimestamp   uint32 = 1114
	oidTimestamptz uint32 = 1184
	oidNumeric     uint32 = 1700
)

// typeInfo is what RowDescription and casts need of a type.
type typeInfo struct {
	name string // PostgreSQL's own name, also a cast column's name
	size int16
	sql  string // as error messages spell it
}

var types = map[uint32]typeInfo{
	oidBool:        {"bool", 1, "boolean"},
	oidName:        {"name", 64, "name"},
	oidInt8:        {"int8", 8, "bigint"},
	oidInt2:        {"int2", 2, "smallint"},
	oidInt4:        {"int4", 4, "integer"},
	oidText:        {"text", -1, "text"},
	oidFloat4:      {"float4", 4, "real"},
	oidFloat8:      {"float8", 8, "double precision"},
	oidUnknown:     {"unknown", -2, "unknown"},
	oidVarchar:     {"varchar", -1, "character varying"},
	oidTimestamp:   {"timestamp", 8, "timestamp without time zone"},
	oidTimestamptz: {"timestamptz", 8, "timestamp with time zone"},
	oidNumeric:     {"numeric", -1, "numeric"},
}

// typeNames maps the spellings a cast may use to a type.
var typeNames = map[string]uint32{
	"bool": oidBool, "boolean": oidBool,
	"int8": oidInt8, "bigint": oidInt8,
	"int4": oidInt4, "int": oidInt4, "integer": oidInt4,
	"int2": oidInt2, "smallint": oidInt2,
	"text": oidText, "varchar": oidVarchar, "name": oidName,
	"float8": oidFloat8, "float4": oidFloat4, "real": oidFloat4,
	"timestamptz": oidTimestamptz, "timestamp": oidTimestamp,
	"numeric": oidNumeric, "decimal": oidNumeric,
}

func typeSQL(oid uint32) string {
	if t, ok := types[oid]; ok {
		return t.sql
	}
	return "oid " + strconv.FormatUint(uint64(oid), 10)
}

// pgEpoch is where PostgreSQL's binary timestamps count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// value is one SQL datum. Integers and booleans live in i, timestamps in i
// as microseconds since pgEpoch (the wire's own unit), floats in f, and
// text and numeric in s (numeric as its canonical decimal).
type value struct {
	typ  uint32
	null bool
	i    int64
	f    float64
	s    string
}

func nullOf(typ uint32) value  { return value{typ: typ, null: true} }
func textValue(s string) value { return value{typ: oidText, s: s} }
func int8Value(i int64) value  { return value{typ: oidInt8, i: i} }
func timeValue(t time.Time) value {
	return value{typ: oidTimestamptz, i: t.Sub(pgEpoch).Microseconds()}
}

func (v value) time() time.Time { return pgEpoch.Add(time.Duration(v.i) * time.Microsecond) }

// encode appends v in the given wire format; NULL is the caller's business.
func (v value) encode(dst []byte, format int16, loc *time.Location) []byte {
	if format == 1 {
		return v.encodeBinary(dst)
	}
	return v.appendText(dst, loc)
}

func (v value) appendText(dst []byte, loc *time.Location) []byte {
	switch v.typ {
	case oidBool:
		if v.i != 0 {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case oidInt2, oidInt4, oidInt8:
		return strconv.AppendInt(dst, v.i, 10)
	case oidFloat4, oidFloat8:
		return appendFloat(dst, v.f)
	case oidTimestamptz:
		if loc == nil {
			loc = time.UTC
		}
		t := v.time().In(loc)
		dst = t.AppendFormat(dst, "2006-01-02 15:04:05.999999")
		return appendOffset(dst, t)
	case oidTimestamp:
		return v.time().AppendFormat(dst, "2006-01-02 15:04:05.999999")
	}
	return append(dst, v.s...)
}

func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// appendOffset writes a zone offset as PostgreSQL's ISO style does: +00,
// +05:30, -03.
func appendOffset(dst []byte, t time.Time) []byte {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = append2(dst, off/3600)
	if m, s := off%3600/60, off%60; m != 0 || s != 0 {
		dst = append2(append(dst, ':'), m)
		if s != 0 {
			dst = append2(append(dst, ':'), s)
		}
	}
	return dst
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

func (v value) encodeBinary(dst []byte) []byte {
	switch v.typ {
	case oidBool:
		if v.i != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case oidInt2:
		return binary.BigEndian.AppendUint16(dst, uint16(v.i))
	case oidInt4:
		return binary.BigEndian.AppendUint32(dst, uint32(v.i))
	case oidInt8, oidTimestamptz, oidTimestamp:
		return binary.BigEndian.AppendUint64(dst, uint64(v.i))
	case oidFloat4:
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(v.f)))
	case oidFloat8:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.f))
	case oidNumeric:
		return appendNumericBinary(dst, v.s)
	}
	return append(dst, v.s...)
}

// binaryCapable reports whether a result column of this type can be sent in
// binary; others go as text whatever the client asked, and their
// RowDescription says so.
func binaryCapable(oid uint32) bool {
	_, ok := types[oid]
	return ok && oid != oidUnknown
}

// decodeParam turns a Bind parameter into a value of type oid.
func decodeParam(src []byte, format int16, oid uint32, n int) (value, error) {
	if src == nil {
		return nullOf(oid), nil
	}
	if format == 0 {
		if oid == oidUnknown || oid == 0 {
			return value{typ: oidUnknown, s: string(src)}, nil
		}
		return parseText(string(src), oid)
	}
	bad := func() (value, error) {
		return value{}, &pgError{code: "22P03", msg: fmt.Sprintf("incorrect binary data format in bind parameter %d", n)}
	}
	switch oid {
	case oidBool:
		if len(src) != 1 {
			return bad()
		}
		return value{typ: oid, i: int64(src[0] & 1)}, nil
	case oidInt2:
		if len(src) != 2 {
			return bad()
		}
		return value{typ: oid, i: int64(int16(binary.BigEndian.Uint16(src)))}, nil
	case oidInt4:
		if len(src) != 4 {
			return bad()
		}
		return value{typ: oid, i: int64(int32(binary.BigEndian.Uint32(src)))}, nil
	case oidInt8, oidTimestamptz, oidTimestamp:
		if len(src) != 8 {
			return bad()
		}
		return value{typ: oid, i: int64(binary.BigEndian.Uint64(src))}, nil
	case oidFloat4:
		if len(src) != 4 {
			return bad()
		}
		return value{typ: oid, f: float64(math.Float32frombits(binary.BigEndian.Uint32(src)))}, nil
	case oidFloat8:
		if len(src) != 8 {
			return bad()
		}
		return value{typ: oid, f: math.Float64frombits(binary.BigEndian.Uint64(src))}, nil
	case oidNumeric:
		s, ok := decodeNumericBinary(src)
		if !ok {
			return bad()
		}
		return value{typ: oid, s: s}, nil
	case oidText, oidVarchar, oidName, oidUnknown, 0:
		return value{typ: oidText, s: string(src)}, nil
	}
	return value{}, &pgError{code: "0A000", msg: fmt.Sprintf("binary parameters of type %s are not supported by the breakerlab fake", typeSQL(oid))}
}

var numericRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// parseText reads the text form of a value of type oid, as a cast or an
// input function would.
func parseText(s string, oid uint32) (value, error) {
	invalid := func() (value, error) {
		return value{}, &pgError{code: "22P02", msg: fmt.Sprintf("invalid input syntax for type %s: %q", typeSQL(oid), s)}
	}
	t := strings.TrimSpace(s)
	switch oid {
	case oidBool:
		switch strings.ToLower(t) {
		case "t", "true", "y", "yes", "on", "1":
			return value{typ: oid, i: 1}, nil
		case "f", "false", "n", "no", "off", "0":
			return value{typ: oid}, nil
		}
		return invalid()
	case oidInt2, oidInt4, oidInt8:
		i, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return value{}, outOfRange(s, oid)
			}
			return invalid()
		}
		return intOf(i, oid, s)
	case oidFloat4, oidFloat8:
		switch strings.ToLower(t) {
		case "nan":
			return value{typ: oid, f: math.NaN()}, nil
		case "infinity", "inf", "+infinity":
			return value{typ: oid, f: math.Inf(1)}, nil
		case "-infinity", "-inf":
			return value{typ: oid, f: math.Inf(-1)}, nil
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return invalid()
		}
		return value{typ: oid, f: f}, nil
	case oidNumeric:
		n, ok := canonicalNumeric(t)
		if !ok {
			return invalid()
		}
		return value{typ: oid, s: n}, nil
	case oidTimestamptz, oidTimestamp:
		tm, ok := parseTimestamp(t, oid == oidTimestamptz)
		if !ok {
			return value{}, &pgError{code: "22007", msg: fmt.Sprintf("invalid input syntax for type %s: %q", typeSQL(oid), s)}
		}
		return value{typ: oid, i: tm.Sub(pgEpoch).Microseconds()}, nil
	}
	return value{typ: oidText, s: s}, nil
}

func outOfRange(s string, oid uint32) error {
	return &pgError{code: "22003", msg: fmt.Sprintf("value %q is out of range for type %s", s, typeSQL(oid))}
}

func intOf(i int64, oid uint32, s string) (value, error) {
	switch {
	case oid == oidInt2 && (i < math.MinInt16 || i > math.MaxInt16),
		oid == oidInt4 && (i < math.MinInt32 || i > math.MaxInt32):
		if oid == oidInt2 {
			return value{}, &pgError{code: "22003", msg: "smallint out of range"}
		}
		return value{}, &pgError{code: "22003", msg: "integer out of range"}
	}
	return value{typ: oid, i: i}, nil
}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimestamp reads the ISO forms clients send; a value without a zone
// is UTC, the session time zone the fake reports.
func parseTimestamp(s string, withZone bool) (time.Time, bool) {
	if strings.EqualFold(s, "now") {
		return time.Now().Truncate(time.Microsecond), true
	}
	for _, layout := range timestampLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if !withZone {
			// A timestamp without time zone keeps its wall clock.
			y, mo, d := t.Date()
			h, mi, sec := t.Clock()
			t = time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
		}
		return t.Round(time.Microsecond), true
	}
	return time.Time{}, false
}

// canonicalNumeric validates a decimal and writes it as PostgreSQL would,
// keeping the scale written (1.50 stays 1.50).
func canonicalNumeric(s string) (string, bool) {
	if strings.EqualFold(s, "nan") {
		return "NaN", true
	}
	if !numericRE.MatchString(s) {
		return "", false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil || exp > 1000 || exp < -1000 {
			return "", false
		}
		mant := s[:i]
		frac := 0
		if j := strings.IndexByte(mant, '.'); j >= 0 {
			frac = len(mant) - j - 1
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return "", false
		}
		return r.FloatString(max(0, frac-exp)), true
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, true
}

// appendNumericBinary writes a canonical decimal in numeric's binary form:
// base-10000 digits around the decimal point.
func appendNumericBinary(dst []byte, s string) []byte {
	const (
		pos = 0x0000
		neg = 0x4000
		nan = 0xC000
	)
	if s == "NaN" {
		return binary.BigEndian.AppendUint64(dst, uint64(nan)<<16)
	}
	sign := uint16(pos)
	if strings.HasPrefix(s, "-") {
		sign, s = neg, s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	dscale := len(frac)
	intPart = strings.TrimLeft(intPart, "0")
	if r := len(intPart) % 4; r != 0 {
		intPart = strings.Repeat("0", 4-r) + intPart
	}
	if r := len(frac) % 4; r != 0 {
		frac += strings.Repeat("0", 4-r)
	}
	all := intPart + frac
	digits := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		d, _ := strconv.Atoi(all[i : i+4])
		digits = append(digits, uint16(d))
	}
	weight := len(intPart)/4 - 1
	for len(digits) > 0 && digits[0] == 0 {
		digits, weight = digits[1:], weight-1
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight, sign = 0, pos
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(digits)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	for _, d := range digits {
		dst = binary.BigEndian.AppendUint16(dst, d)
	}
	return dst
}

func decodeNumericBinary(src []byte) (string, bool) {
	if len(src) < 8 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(src))
	weight := int(int16(binary.BigEndian.Uint16(src[2:])))
	sign := binary.BigEndian.Uint16(src[4:])
	dscale := int(binary.BigEndian.Uint16(src[6:]))
	if sign == 0xC000 {
		return "NaN", true
	}
	if len(src) != 8+2*n || dscale > 1000 {
		return "", false
	}
	digit := func(k int) int {
		if k < 0 || k >= n {
			return 0
		}
		return int(binary.BigEndian.Uint16(src[8+2*k:]))
	}
	var b strings.Builder
	if sign == 0x4000 {
		b.WriteByte('-')
	}
	if weight < 0 {
		b.WriteByte('0')
	}
	for k := 0; k <= weight; k++ {
		if k == 0 {
			b.WriteString(strconv.Itoa(digit(k)))
		} else {
			fmt.Fprintf(&b, "%04d", digit(k))
		}
	}
	if dscale > 0 {
		var frac strings.Builder
		for k := weight + 1; frac.Len() < dscale; k++ {
			fmt.Fprintf(&frac, "%04d", digit(k))
		}
		b.WriteByte('.')
		b.WriteString(frac.String()[:dscale])
	}
	out := b.String()
	if out == "-0" || (strings.HasPrefix(out, "-") && strings.Trim(out[1:], "0.") == "") {
		out = out[1:]
	}
	return out, true
}

// convert casts v to type to, as an explicit cast or an assignment to a
// column does; text goes through the type's input function.
func convert(v value, to uint32) (value, error) {
	if v.null {
		return nullOf(to), nil
	}
	if v.typ == to || to == 0 {
		return v, nil
	}
	if to == oidUnknown {
		return v, nil
	}
	from := v.typ
	isInt := func(o uint32) bool { return o == oidInt2 || o == oidInt4 || o == oidInt8 }
	isText := func(o uint32) bool { return o == oidText || o == oidVarchar || o == oidName || o == oidUnknown }
	switch {
	case isText(from):
		if isText(to) {
			return value{typ: to, s: v.s}, nil
		}
		return parseText(v.s, to)
	case isText(to):
		return value{typ: to, s: string(v.appendText(nil, time.UTC))}, nil
	case isInt(from) && isInt(to):
		return intOf(v.i, to, strconv.FormatInt(v.i, 10))
	case isInt(from) && (to == oidFloat8 || to == oidFloat4):
		return value{typ: to, f: float64(v.i)}, nil
	case isInt(from) && to == oidNumeric:
		return value{typ: to, s: strconv.FormatInt(v.i, 10)}, nil
	case (from == oidFloat8 || from == oidFloat4) && isInt(to):
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) || math.Abs(v.f) > math.MaxInt64 {
			return value{}, outOfRange(strconv.FormatFloat(v.f, 'g', -1, 64), to)
		}
		return intOf(int64(math.RoundToEven(v.f)), to, strconv.FormatFloat(v.f, 'g', -1, 64))
	case (from == oidFloat8 || from == oidFloat4) && (to == oidFloat8 || to == oidFloat4):
		return value{typ: to, f: v.f}, nil
	case (from == oidFloat8 || from == oidFloat4) && to == oidNumeric:
		return value{typ: to, s: strconv.FormatFloat(v.f, 'f', -1, 64)}, nil
	case from == oidNumeric && isInt(to):
		r, ok := new(big.Rat).SetString(v.s)
		if !ok {
			return value{}, outOfRange(v.s, to)
		}
		rounded, _ := new(big.Float).SetRat(r).Float64()
		rounded = math.Round(rounded)
		if math.Abs(rounded) > math.MaxInt64 {
			return value{}, outOfRange(v.s, to)
		}
		return intOf(int64(rounded), to, v.s)
	case from == oidNumeric && (to == oidFloat8 || to == oidFloat4):
		f, _ := strconv.ParseFloat(v.s, 64)
		return value{typ: to, f: f}, nil
	case (from == oidTimestamptz || from == oidTimestamp) && (to == oidTimestamptz || to == oidTimestamp):
		return value{typ: to, i: v.i}, nil
	}
	return value{}, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast type %s to %s", typeSQL(from), typeSQL(to))}
}
