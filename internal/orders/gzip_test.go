package orders_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"

	"campaignd/internal/orders"
)

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGzipReport: a gzip report (as Amazon's Reports API serves them) is
// read as if it were plain, whatever its name; Inspect hashes the bytes it
// was given and tells the encoding of the text inside.
func TestGzipReport(t *testing.T) {
	plain := parseString(t, baseAllOrders(), orders.Options{})
	cp, _ := charmap.Windows1252.NewEncoder().String(baseAllOrders()[:strings.Index(baseAllOrders(), "222-")])
	for name, text := range map[string]string{"utf-8": baseAllOrders(), "windows-1252": cp} {
		t.Run(name, func(t *testing.T) {
			gz := gzipped(t, []byte(text))
			res := parseBytes(t, gz, orders.Options{}) // written as report.txt: the name does not matter
			if res.err != nil {
				t.Fatal(res.err)
			}
			sum := sha256.Sum256(gz)
			if res.info.SHA256 != hex.EncodeToString(sum[:]) || res.info.Size != int64(len(gz)) {
				t.Errorf("Inspect hashed %s/%d, want the compressed bytes' %x/%d", res.info.SHA256, res.info.Size, sum, len(gz))
			}
			if res.info.Encoding != name || res.info.Compression != "gzip" || res.info.TextSize != int64(len(text)) || res.info.Damaged != "" {
				t.Errorf("Inspect = %+v", res.info)
			}
			if name == "utf-8" && !reflect.DeepEqual(res.orders, plain.orders) {
				t.Errorf("\n got %+v\nwant %+v", res.orders, plain.orders)
			}
			if name == "windows-1252" && (len(res.orders) != 1 || res.orders[0].Items[1].Title != "Müller Größe Straße") {
				t.Errorf("orders %+v", res.orders)
			}
			wantRejected(t, res.sum, plain.sum.Rejected...)
		})
	}
	if fi, err := orders.Inspect(bytes.NewReader(gzipped(t, nil))); err != nil || fi.Compression != "gzip" {
		t.Errorf("empty gzip: %+v %v", fi, err)
	}
	res := parseBytes(t, gzipped(t, nil), orders.Options{})
	if !errors.Is(res.err, orders.ErrNotReport) || !strings.Contains(res.err.Error(), "empty file") {
		t.Errorf("empty gzip: %v", res.err)
	}
	res = parseBytes(t, gzipped(t, []byte("PK\x03\x04\x14\x00\x06\x00")), orders.Options{})
	if !errors.Is(res.err, orders.ErrNotReport) || !strings.Contains(res.err.Error(), "zip") {
		t.Errorf("zip inside gzip: %v", res.err)
	}
}

// TestGzipStreams reads a large gzip report through a reader that hands
// out a few bytes at a time, and through one that cannot seek.
func TestGzipStreams(t *testing.T) {
	data, err := io.ReadAll(newAllOrdersGen(5000))
	if err != nil {
		t.Fatal(err)
	}
	gz := gzipped(t, data)
	plain, err := orders.Parse(bytes.NewReader(data), "x.txt", "utf-8", orders.Options{}, nil)
	if err != nil || plain.Groups != 5000-5 {
		t.Fatalf("plain: %v %+v", err, plain)
	}
	for name, r := range map[string]io.Reader{"half reader": iotest.HalfReader(bytes.NewReader(gz)), "one byte": iotest.OneByteReader(bytes.NewReader(gz))} {
		count := 0
		sum, err := orders.Parse(r, "x.txt.gz", "utf-8", orders.Options{}, func(orders.Order) error { count++; return nil })
		if err != nil || count != plain.Groups || sum.Rows != plain.Rows || !reflect.DeepEqual(sum.Rejected, plain.Rejected) {
			t.Errorf("%s: err %v, %d orders, %d rows, %d rejected; want as plain %+v", name, err, count, sum.Rows, sum.RejectedCount, plain)
		}
	}
}

// TestGzipDamaged: a gzip stream cut off or corrupted is rejected whole
// with a clear reason, before a single order is emitted; it is never read
// as a shorter file.
func TestGzipDamaged(t *testing.T) {
	data, _ := io.ReadAll(newAllOrdersGen(5000))
	gz := gzipped(t, data)
	flipped := bytes.Clone(gz)
	flipped[len(flipped)/2] ^= 0xff
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 0x01
	for name, b := range map[string][]byte{
		"cut off":       gz[:len(gz)*2/3],
		"cut in header": gz[:5],
		"corrupted":     flipped,
		"bad checksum":  badCRC,
	} {
		t.Run(name, func(t *testing.T) {
			res := parseBytes(t, b, orders.Options{})
			if !errors.Is(res.err, orders.ErrNotReport) || !strings.Contains(res.err.Error(), "damaged gzip stream") {
				t.Errorf("err = %v", res.err)
			}
			if len(res.orders) != 0 {
				t.Errorf("%d orders emitted from a damaged file", len(res.orders))
			}
			if res.info.Damaged == "" || res.info.Compression != "gzip" || res.info.Size != int64(len(b)) {
				t.Errorf("Inspect = %+v", res.info)
			}
		})
	}
	// Without seeking, the damage is found where it is, and is an error.
	count := 0
	_, err := orders.Parse(io.MultiReader(bytes.NewReader(gz[:len(gz)*2/3])), "x.gz", "utf-8", orders.Options{}, func(orders.Order) error { count++; return nil })
	if err == nil || !strings.Contains(err.Error(), "damaged gzip stream") {
		t.Errorf("unseekable: err %v after %d orders", err, count)
	}
}

// TestGzipBomb: a gzip stream that expands more than 100 times (past the
// first 64 MiB) is refused without writing or keeping what it expands to.
// This one expands about 1000 times, to 70 MiB.
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("expands 64 MiB")
	}
	// A header, then 70 gzip members of 1 MiB of blank lines each (a gzip
	// file may hold several members; readers go on through all of them).
	member := gzipped(t, bytes.Repeat([]byte{'\n'}, 1<<20))
	b := bytes.NewBuffer(gzipped(t, []byte(allOrdersHeader+"\n")))
	for i := 0; i < 70; i++ {
		b.Write(member)
	}
	path := filepath.Join(t.TempDir(), "bomb.txt.gz")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	res := parseFile(t, path, orders.Options{})
	if !errors.Is(res.err, orders.ErrNotReport) || !strings.Contains(res.err.Error(), "expands more than 100 times") {
		t.Errorf("err = %v", res.err)
	}
	if !strings.Contains(res.info.Damaged, "expands more than 100 times") || res.info.TextSize > 70<<20 {
		t.Errorf("Inspect = %+v", res.info)
	}
}
