// Command genreport writes the generated All Orders report of the ingest
// benchmarks (see package benchgen):
//
//	genreport -n 1000000 -o all.txt                  orders 0 to 999,999
//	genreport -first 1000000 -n 100000 -o new.txt    100,000 more
//	genreport -first 900000 -n 200000 -later -o upd.txt
//
// The last is a by-last-update report: the newest 100,000 orders one step
// further in their life, and 100,000 new ones. Purchase dates spread over
// the 28 days from -start (default: 27 days before today).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"campaignd/internal/ledger/benchgen"
)

func main() {
	var opt benchgen.Options
	flag.IntVar(&opt.First, "first", 0, "index of the first order")
	flag.IntVar(&opt.N, "n", 1_000_000, "orders to write")
	flag.BoolVar(&opt.Later, "later", false, "write the orders' next state (delivered, updated three days later)")
	out := flag.String("o", "", "output file (default stdout)")
	start := flag.String("start", time.Now().UTC().AddDate(0, 0, -27).Format(time.DateOnly), "first purchase date (YYYY-MM-DD)")
	flag.Parse()
	var err error
	if opt.Start, err = time.Parse(time.DateOnly, *start); err != nil {
		fmt.Fprintln(os.Stderr, "genreport:", err)
		os.Exit(2)
	}
	f := os.Stdout
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, "genreport:", err)
			os.Exit(1)
		}
	}
	err = benchgen.Write(f, opt)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genreport:", err)
		os.Exit(1)
	}
}
