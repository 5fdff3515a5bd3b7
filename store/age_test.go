package store

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30d", 30 * day, false},
		{"2w", 14 * day, false},
		{"36h", 36 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"1w2d3h4m", 9*day + 3*time.Hour + 4*time.Minute, false},
		{"1.5d", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1h30m1d", 25*time.Hour + 30*time.Minute, false},
		{"", 0, true},
		{"0", 0, true},
		{"0d", 0, true},
		{"0s", 0, true},
		{"-30d", 0, true},
		{"-1h", 0, true},
		{"+1h", 0, true},
		{"30", 0, true},
		{"d", 0, true},
		{"30x", 0, true},
		{"30 d", 0, true},
		{"1..5d", 0, true},
		{"thirty days", 0, true},
		{"200000w", 0, true}, // beyond time.Duration
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAge(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseAge(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
