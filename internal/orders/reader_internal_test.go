package orders

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestStrayQuotesReadLinear: a file whose every line leaves a quote open
// is read in time linear in its lines: each line is read a bounded number
// of times, not once per line before it within reach of a quote.
func TestStrayQuotesReadLinear(t *testing.T) {
	const n = 5000
	header := "amazon-order-id,purchase-date,order-status,item-status,sku,product-name,quantity"
	data := header + "\n" + strings.Repeat("x,\"y\n", n)
	rr := &recordReader{br: bufio.NewReader(strings.NewReader(data)), sep: ',', quoted: true, next: 1}
	hdr, err := rr.read()
	if err != nil {
		t.Fatal(err)
	}
	lay, why := detect(hdr, Options{})
	if lay == nil {
		t.Fatal(why)
	}
	rr.shape = lay
	broken := 0
	for {
		_, err := rr.read()
		if errors.Is(err, io.EOF) {
			break
		}
		var bq *brokenQuoteError
		if !errors.As(err, &bq) {
			t.Fatalf("err = %v", err)
		}
		broken++
	}
	if broken != n || rr.linesRead > 3*(n+1) {
		t.Errorf("%d rows broken of %d; %d lines read for %d lines", broken, n, rr.linesRead, n+1)
	}
}
