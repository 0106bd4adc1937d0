package fetch

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// inspect tells gzip by its magic bytes, finds whether a data row follows
// the header (any line ending), and refuses damaged or oversized streams.
func TestInspect(t *testing.T) {
	big := "h\n" + strings.Repeat("row\n", 1000)
	tests := []struct {
		name     string
		data     []byte
		gz, rows bool
		err      error
	}{
		{"empty", nil, false, false, nil},
		{"blank lines", []byte("\n\r\n \t\n"), false, false, nil},
		{"header only", []byte("a\tb\n"), false, false, nil},
		{"header only CRLF", []byte("a\tb\r\n\r\n"), false, false, nil},
		{"header, row without end", []byte("a\tb\r\n1\t2"), false, true, nil},
		{"CR endings", []byte("a\rb\r"), false, true, nil},
		{"gzip header only", gz(t, "a\tb\n"), true, false, nil},
		{"gzip with rows", gz(t, "a\tb\n1\t2\n"), true, true, nil},
		{"gzip cut short", gz(t, big)[:40], true, false, ErrDocument},
		{"gzip bad crc", func() []byte { b := gz(t, "a\n1\n"); b[len(b)-6] ^= 0xff; return b }(), true, false, ErrDocument},
		{"too large", []byte(big), false, true, nil}, // plain: stops after two lines
		{"gzip too large", gz(t, big), true, false, errTooLarge},
	}
	for _, tt := range tests {
		gotGz, gotRows, err := inspect(bytes.NewReader(tt.data), 100)
		if gotGz != tt.gz || (err == nil && gotRows != tt.rows) || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("%s: inspect = %v, %v, %v; want %v, %v, %v", tt.name, gotGz, gotRows, err, tt.gz, tt.rows, tt.err)
		}
	}
}

func TestFileBaseIsSafe(t *testing.T) {
	k := Key{ReportType: AllOrdersByLastUpdate, MarketplaceID: "ATVPDKIKX0DER"}
	if got := fileBase(k, "../../etc/50013019010"); strings.ContainsAny(got, "/\\") || !strings.HasSuffix(got, "______etc_50013019010") {
		t.Errorf("fileBase = %q", got)
	}
}
