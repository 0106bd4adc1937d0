// Command benchgen writes the generated All Orders report that the ingest
// benchmarks (scripts/bench) read: the same shape as the orders package's
// parser benchmark (every third order has two item rows, statuses vary,
// one order in 1000 carries spreadsheet damage), 1,000,000 orders making
// about 330 MB.
//
//	benchgen -n 1000000 -o all.txt            orders 0 to 999,999
//	benchgen -first 1000000 -n 100000 -o new.txt
//	benchgen -first 900000 -n 100000 -later -o changed.txt
//
// -later writes the same orders one step further in their life: shipped
// orders delivered, each row's last-updated date three days on, as a
// by-last-update report would. Purchase dates spread over the 28 days from
// -start (default: 27 days before today), so that ingested now most orders
// are inside their 30-day window and get send times and deadlines.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

const header = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\tpurchase-order-number\tprice-designation\n"

// days are the 28 purchase days, then 3 more for later updates.
var days [31]string

var statuses = [...]string{"Shipped", "Shipped - Delivered to Buyer", "Pending", "Cancelled", "Shipped - Returned to Seller", "Shipping"}

func main() {
	first := flag.Int("first", 0, "index of the first order")
	n := flag.Int("n", 1_000_000, "orders to write")
	later := flag.Bool("later", false, "write the orders' next state (delivered, updated three days later)")
	out := flag.String("o", "", "output file (default stdout)")
	start := flag.String("start", time.Now().UTC().AddDate(0, 0, -27).Format(time.DateOnly), "first purchase date (YYYY-MM-DD)")
	flag.Parse()
	base, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for d := range days {
		days[d] = base.AddDate(0, 0, d).Format(time.DateOnly)
	}
	f := os.Stdout
	if *out != "" {
		var err error
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header)
	var b []byte
	for i := *first; i < *first+*n; i++ {
		b = appendOrder(b[:0], i, *later)
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// appendOrder appends the rows of order i.
func appendOrder(b []byte, i int, later bool) []byte {
	items := 1
	if i%3 == 0 {
		items = 2
	}
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
	day, updated := i%28, i%28
	status := statuses[i%len(statuses)]
	if later {
		updated += 3
		if status == "Shipped" || status == "Shipping" || status == "Pending" {
			status = "Shipped - Delivered to Buyer"
		}
	}
	for k := 0; k < items; k++ {
		b = append(b, id...)
		b = append(b, "\t\t"...)
		b = append(b, days[day]...)
		b = append(b, 'T', '1', '0', ':')
		b = appendPadded(b, i%60, 2)
		b = append(b, ":00-07:00\t"...)
		b = append(b, days[updated]...)
		b = append(b, "T18:00:00-07:00\t"...)
		b = append(b, status...)
		b = append(b, "\tAmazon\tAmazon.com\t\tStandard\tProduct name "...)
		b = strconv.AppendInt(b, int64(i%500), 10)
		b = append(b, ", \"deluxe\" edition\tSKU-"...)
		b = strconv.AppendInt(b, int64(i%500), 10)
		b = append(b, '-', byte('0'+k))
		b = append(b, "\tB0"...)
		b = appendPadded(b, i%100000000, 8)
		b = append(b, "\tShipped\t1\tUSD\t19.99\t1.20\t0.00\t0.00\t\t\t0.00\t0.00\tSEATTLE\tWA\t98101\tUS\t\tfalse\t\t\n"...)
	}
	return b
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
