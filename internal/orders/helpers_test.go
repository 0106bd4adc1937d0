package orders_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"campaignd/internal/orders"
)

// result is everything one Parse call produced.
type result struct {
	info   orders.FileInfo
	orders []orders.Order
	sum    orders.Summary
	err    error
}

// parseBytes writes data to a real file, inspects it, and parses it with
// the encoding Inspect chose.
func parseBytes(t *testing.T, data []byte, opts orders.Options) result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return parseFile(t, path, opts)
}

func parseString(t *testing.T, s string, opts orders.Options) result {
	t.Helper()
	return parseBytes(t, []byte(s), opts)
}

func parseFile(t *testing.T, path string, opts orders.Options) result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := orders.Inspect(f)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	res := result{info: info}
	res.sum, res.err = orders.Parse(f, filepath.Base(path), info.Encoding, opts, func(o orders.Order) error {
		res.orders = append(res.orders, o)
		return nil
	})
	checkSummary(t, res)
	return res
}

// checkSummary asserts what must hold for every Parse call.
func checkSummary(t *testing.T, r result) {
	t.Helper()
	s := r.sum
	if s.Groups != len(r.orders) {
		t.Errorf("Summary.Groups = %d, but %d orders were emitted", s.Groups, len(r.orders))
	}
	if s.RejectedCount < len(s.Rejected) || len(s.Rejected) > 1000 {
		t.Errorf("RejectedCount %d, len(Rejected) %d", s.RejectedCount, len(s.Rejected))
	}
	if s.Groups > s.Rows-s.RejectedCount {
		t.Errorf("Groups %d > Rows %d - RejectedCount %d", s.Groups, s.Rows, s.RejectedCount)
	}
	if err := causesAddUp(s); err != "" {
		t.Error(err)
	}
	if r.err != nil && errors.Is(r.err, orders.ErrNotReport) && len(r.orders) > 0 {
		t.Errorf("ErrNotReport but %d orders were emitted", len(r.orders))
	}
	for _, o := range r.orders {
		if !orders.ValidID(o.ID) && !orders.IsNonAmazonID(o.ID) {
			t.Errorf("emitted invalid id %q", o.ID)
		}
		for _, tm := range []time.Time{o.PurchaseDate, o.StatusAt, o.ShippedAt, o.DeliveredAt, o.EstimatedArrival} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("order %s: time %v is not UTC", o.ID, tm)
			}
		}
	}
}

// tsv builds a tab-delimited file: a header line, then one line per row
// with the named cells filled and every other column empty.
func tsv(header string, rows ...map[string]string) string {
	return delimited(header, "\t", "\n", rows...)
}

func delimited(header, sep, eol string, rows ...map[string]string) string {
	cols := strings.Split(header, sep)
	var b strings.Builder
	b.WriteString(header + eol)
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = r[c]
		}
		b.WriteString(strings.Join(cells, sep) + eol)
	}
	return b.String()
}

// ts parses an RFC 3339 instant for expectations, in UTC.
func ts(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

// firstLine returns the first line of a testdata file (the real headers).
func firstLine(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// wantRejected asserts the rejected rows, line and column, in order.
func wantRejected(t *testing.T, s orders.Summary, want ...orders.RowError) {
	t.Helper()
	if s.RejectedCount != len(want) || len(s.Rejected) != len(want) {
		t.Fatalf("rejected = %v (count %d), want %d rows: %v", s.Rejected, s.RejectedCount, len(want), want)
	}
	for i, w := range want {
		g := s.Rejected[i]
		if g.Line != w.Line || g.Column != w.Column || !strings.Contains(g.Reason, w.Reason) {
			t.Errorf("rejected[%d] = %#v, want line %d column %q reason containing %q", i, g, w.Line, w.Column, w.Reason)
		}
	}
}

// allOrdersLine is one All Orders data line: the cells given, then empty
// cells up to the header's 31 columns.
func allOrdersLine(cells ...string) string {
	n := strings.Count(allOrdersHeader, "\t") + 1
	for len(cells) < n {
		cells = append(cells, "")
	}
	return strings.Join(cells, "\t") + "\n"
}

// causesAddUp checks that every rejected row has a cause and that the
// cause counts add up to RejectedCount; it returns what is wrong, or "".
func causesAddUp(s orders.Summary) string {
	n := 0
	for _, c := range s.Causes {
		if c.Cause == "" || c.Count < 1 || c.FirstLine > c.LastLine {
			return fmt.Sprintf("bad RejectCause %+v", c)
		}
		n += c.Count
	}
	for _, r := range s.Rejected {
		if r.Cause == "" {
			return fmt.Sprintf("rejected row without a cause: %+v", r)
		}
	}
	if n != s.RejectedCount || len(s.RejectedSummary()) != len(s.Causes) {
		return fmt.Sprintf("causes count %d rows, RejectedCount %d", n, s.RejectedCount)
	}
	return ""
}

// allOrdersText is the benchmark's generated All Orders file of n orders.
func allOrdersText(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	if _, err := io.Copy(&b, newAllOrdersGen(n)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
