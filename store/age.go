package store

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseAge parses an age such as prune's --older-than: a Go duration
// ("36h", "90m") whose units may also include d (24h) and w (7d), alone or
// mixed ("30d", "2w", "1d12h", "1.5d"). The age must be positive.
func ParseAge(s string) (time.Duration, error) {
	d, err := parseAge(s)
	if err != nil {
		return 0, fmt.Errorf("age %q: %w (want a positive duration such as 30d, 2w, 36h or 1d12h)", s, err)
	}
	return d, nil
}

func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if s[0] == '-' {
		return 0, errors.New("negative")
	}
	// Days and weeks are summed here; the other terms, in their order, are
	// left to time.ParseDuration.
	var days float64
	var rest strings.Builder
	for in := s; in != ""; {
		num := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if num == 0 {
			return 0, fmt.Errorf("expected a number at %q", in)
		}
		if num < 0 {
			return 0, fmt.Errorf("missing unit after %q", in)
		}
		unit := strings.IndexFunc(in[num:], func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' })
		if unit < 0 {
			unit = len(in) - num
		}
		term, u := in[:num+unit], in[num:num+unit]
		in = in[num+unit:]
		if u != "d" && u != "w" {
			rest.WriteString(term)
			continue
		}
		n, err := strconv.ParseFloat(term[:num], 64)
		if err != nil {
			return 0, fmt.Errorf("bad number %q", term[:num])
		}
		if u == "w" {
			n *= 7
		}
		days += n
	}
	var d time.Duration
	if rest.Len() > 0 {
		var err error
		if d, err = time.ParseDuration(rest.String()); err != nil {
			return 0, err
		}
	}
	const day = float64(24 * time.Hour)
	if days*day > float64(math.MaxInt64-d) {
		return 0, errors.New("longer than about 292 years, the most a time.Duration holds")
	}
	d += time.Duration(days * day)
	if d <= 0 {
		return 0, errors.New("not positive")
	}
	return d, nil
}
