package orders_test

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"campaignd/internal/orders"
)

// allOrdersGen streams a generated All Orders file of n orders without
// holding it in memory: every third order has two item rows, statuses
// vary, and one row in 1000 carries spreadsheet damage.
type allOrdersGen struct {
	n, i int
	buf  []byte
	off  int
	hdr  bool
}

func newAllOrdersGen(n int) *allOrdersGen { return &allOrdersGen{n: n} }

var genStatuses = [...]string{"Shipped", "Shipped - Delivered to Buyer", "Pending", "Cancelled", "Shipped - Returned to Seller", "Shipping"}

func (g *allOrdersGen) fill() bool {
	g.buf, g.off = g.buf[:0], 0
	if !g.hdr {
		g.hdr = true
		g.buf = append(g.buf, allOrdersHeader...)
		g.buf = append(g.buf, '\n')
		return true
	}
	if g.i >= g.n {
		return false
	}
	i := g.i
	g.i++
	items := 1
	if i%3 == 0 {
		items = 2
	}
	// id: 3-7-7, unique per order; one order in 1000 is spreadsheet damage
	var idb [19]byte
	id := idb[:0]
	id = appendPadded(id, 100+i%900, 3)
	id = append(id, '-')
	id = appendPadded(id, i%10000000, 7)
	id = append(id, '-')
	id = appendPadded(id, (i*7919)%10000000, 7)
	if i%1000 == 999 {
		id = append(id[:0], "5.8E+13"...)
	}
	day := 1 + i%28
	for k := 0; k < items; k++ {
		b := append(g.buf, id...)
		b = append(b, "\t\t2026-05-"...)
		b = appendPadded(b, day, 2)
		b = append(b, 'T', '1', '0', ':')
		b = appendPadded(b, i%60, 2)
		b = append(b, ":00-07:00\t2026-05-"...)
		b = appendPadded(b, day, 2)
		b = append(b, "T18:00:00-07:00\t"...)
		b = append(b, genStatuses[i%len(genStatuses)]...)
		b = append(b, "\tAmazon\tAmazon.com\t\tStandard\tProduct name "...)
		b = strconv.AppendInt(b, int64(i%500), 10)
		b = append(b, ", \"deluxe\" edition\tSKU-"...)
		b = strconv.AppendInt(b, int64(i%500), 10)
		b = append(b, '-', byte('0'+k))
		b = append(b, "\tB0"...)
		b = appendPadded(b, i%100000000, 8)
		b = append(b, "\tShipped\t1\tUSD\t19.99\t1.20\t0.00\t0.00\t\t\t0.00\t0.00\tSEATTLE\tWA\t98101\tUS\t\tfalse\t\t\n"...)
		g.buf = b
	}
	return true
}

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (g *allOrdersGen) Read(p []byte) (int, error) {
	for g.off >= len(g.buf) {
		if !g.fill() {
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

// countingReader counts the bytes that pass through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func BenchmarkParseAllOrders(b *testing.B) {
	const n = 1_000_000
	size, err := io.Copy(io.Discard, newAllOrdersGen(n))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		groups := 0
		sum, err := orders.Parse(newAllOrdersGen(n), "bench.txt", "utf-8", orders.Options{}, func(o orders.Order) error {
			groups++
			return nil
		})
		if err != nil || sum.Groups != groups || groups != n-n/1000 {
			b.Fatalf("err %v, summary %+v, %d groups", err, sum, groups)
		}
	}
	b.ReportMetric(float64(n), "orders/op")
}

// BenchmarkBaselineSplitAllOrders reads the same generated file as
// BenchmarkParseAllOrders but only splits it into lines and tab-separated
// cells: the floor any parser pays. scripts/bench prints the parser's cost
// as a ratio to it, measured in the same run.
func BenchmarkBaselineSplitAllOrders(b *testing.B) {
	const n = 1_000_000
	size, err := io.Copy(io.Discard, newAllOrdersGen(n))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sc := bufio.NewScanner(newAllOrdersGen(n))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		cells := 0
		for sc.Scan() {
			cells += len(bytes.Split(sc.Bytes(), []byte{'\t'}))
		}
		if sc.Err() != nil || cells == 0 {
			b.Fatal(sc.Err())
		}
	}
	b.ReportMetric(float64(n), "orders/op")
}

// TestMemoryDoesNotGrowWithFile parses 10k and 200k generated orders from
// a streaming reader and compares the largest live heap (after a forced GC)
// seen while parsing: it must not grow with the file.
func TestMemoryDoesNotGrowWithFile(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 210k orders")
	}
	peak := func(n int) (uint64, int64) {
		runtime.GC()
		var ms runtime.MemStats
		var max uint64
		cr := &countingReader{r: newAllOrdersGen(n)}
		count := 0
		sum, err := orders.Parse(cr, "gen.txt", "utf-8", orders.Options{}, func(o orders.Order) error {
			count++
			if count%5000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > max {
					max = ms.HeapAlloc
				}
			}
			return nil
		})
		if err != nil || sum.Groups != count || count != n-n/1000 || sum.RejectedCount < n/1000 {
			t.Fatalf("n=%d: err %v, summary groups %d rejected %d, emitted %d", n, err, sum.Groups, sum.RejectedCount, count)
		}
		return max, cr.n
	}
	small, smallBytes := peak(10_000)
	large, largeBytes := peak(200_000)
	t.Logf("live heap peak: %d KiB for %d MiB, %d KiB for %d MiB", small>>10, smallBytes>>20, large>>10, largeBytes>>20)
	if largeBytes < 15*smallBytes {
		t.Fatalf("generator sizes %d and %d: the large file is not large", smallBytes, largeBytes)
	}
	const bound = 1 << 20
	if large > small+bound {
		t.Errorf("live heap grew by %d KiB from a %d MiB to a %d MiB file; want under %d KiB",
			(large-small)>>10, smallBytes>>20, largeBytes>>20, bound>>10)
	}
}

// TestGeneratorShape guards the benchmark input: it is an All Orders file
// whose orders the parser reads.
func TestGeneratorShape(t *testing.T) {
	b, err := io.ReadAll(newAllOrdersGen(4))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "\n"); got != 1+6 {
		t.Fatalf("lines %d, want header + 6 rows", got)
	}
	res := parseBytes(t, b, orders.Options{})
	if res.err != nil || res.sum.Kind != orders.KindAllOrders || len(res.orders) != 4 || len(res.orders[0].Items) != 2 {
		t.Fatalf("%v %+v", res.err, res.sum)
	}
}
