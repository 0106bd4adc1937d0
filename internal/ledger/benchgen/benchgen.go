// Package benchgen writes the generated All Orders report that the ingest
// benchmarks (scripts/bench, through its command genreport) read: the same shape as the orders package's
// parser benchmark (every third order has two item rows, statuses vary,
// one order in 1000 carries spreadsheet damage), 1,000,000 orders making
// about 330 MB.
//
//	genreport -n 1000000 -o all.txt            orders 0 to 999,999
//	genreport -first 1000000 -n 100000 -o new.txt
//	genreport -first 900000 -n 100000 -later -o changed.txt
//
// Later writes the same orders one step further in their life: shipped
// orders delivered, each row's last-updated date three days on, as a
// by-last-update report would. Purchase dates spread over the 28 days from
// -start (default: 27 days before today), so that ingested now most orders
// are inside their 30-day window and get send times and deadlines.
package benchgen

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// Header is the All Orders header row the report starts with.
const Header = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\tpurchase-order-number\tprice-designation\n"

var statuses = [...]string{"Shipped", "Shipped - Delivered to Buyer", "Pending", "Cancelled", "Shipped - Returned to Seller", "Shipping"}

// Options choose the orders written.
type Options struct {
	First, N int       // orders First to First+N-1
	Later    bool      // their next state: delivered, updated three days on
	Start    time.Time // the first purchase day (UTC midnight)
}

// Write writes the report.
func Write(w io.Writer, opt Options) error {
	var days [31]string
	for d := range days {
		days[d] = opt.Start.AddDate(0, 0, d).Format(time.DateOnly)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(Header)
	var b []byte
	for i := opt.First; i < opt.First+opt.N; i++ {
		b = appendOrder(b[:0], i, opt.Later, &days)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendOrder appends the rows of order i.
func appendOrder(b []byte, i int, later bool, days *[31]string) []byte {
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
