package orders

import (
	"reflect"
	"testing"
	"time"
)

// FuzzFastRFC3339: wherever the fast path reads a date, time.Parse reads
// the same instant, to the bit.
func FuzzFastRFC3339(f *testing.F) {
	for _, s := range []string{"2026-05-01T10:00:00-07:00", "2026-05-01T10:00:00Z", "2024-02-29T23:59:59+14:00",
		"2023-02-29T10:00:00Z", "2026-04-31T10:00:00Z", "2026-13-01T10:00:00Z", "2026-05-01T24:00:00Z",
		"2026-05-01T10:60:00Z", "2026-05-01T10:00:60Z", "2026-05-01T10:00:00+24:00", "2026-05-01T10:00:00-00:60",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "2026-05-01 10:00:00+02:00", "2026-05-01T10:00:00.5Z",
		"+026-05-01T10:00:00Z", "2026-05-01t10:00:00z", "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastRFC3339([]byte(s))
		want, err := time.Parse(time.RFC3339, s)
		if !ok {
			if len(s) == 20 && err == nil && s[19] == 'Z' {
				t.Errorf("fast path refused %q, which time.Parse reads", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("fast path read %q as %v; time.Parse: %v", s, got, err)
		}
		if !reflect.DeepEqual(got, want.UTC()) {
			t.Fatalf("%q: fast %#v, time.Parse %#v", s, got, want.UTC())
		}
	})
}
