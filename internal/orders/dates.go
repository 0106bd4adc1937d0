package orders

import "time"

// fastRFC3339 parses the one form Amazon's reports write dates in,
// 2026-05-01T10:00:00-07:00 or 2026-05-01T10:00:00Z, without allocating,
// into UTC. ok is false for anything else (fractions of a second, other
// shapes, values out of range), which time.Parse then decides; where ok is
// true the result is exactly time.Parse(time.RFC3339, …).UTC().
func fastRFC3339(b []byte) (time.Time, bool) {
	if (len(b) != 20 && len(b) != 25) || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	cent, yy, month, day := two(b, 0), two(b, 2), two(b, 5), two(b, 8)
	hour, minute, sec := two(b, 11), two(b, 14), two(b, 17)
	year := cent*100 + yy
	if cent < 0 || yy < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	off := 0
	switch {
	case len(b) == 20 && b[19] == 'Z':
	case len(b) == 25 && (b[19] == '+' || b[19] == '-') && b[22] == ':':
		oh, om := two(b, 20), two(b, 23)
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return time.Time{}, false
		}
		if off = (oh*60 + om) * 60; b[19] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-off)
	return time.Unix(unix, 0).UTC(), true
}

// daysSinceEpoch counts the days from 1970-01-01 to a date of the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil).
func daysSinceEpoch(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400                     // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d - 1    // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
}

// two reads the two ASCII digits at b[i:], or returns -1.
func two(b []byte, i int) int {
	hi, lo := b[i]-'0', b[i+1]-'0'
	if hi > 9 || lo > 9 {
		return -1
	}
	return int(hi)*10 + int(lo)
}

// daysIn returns the number of days in month of year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
