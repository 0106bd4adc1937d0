package fetch

import (
	"slices"
	"time"
)

// ReportType describes one Amazon report type the fetcher can request and
// campaignd's inbox can read.
type ReportType struct {
	// Name is the reportType value of the Reports API.
	Name string
	// Overlap is how far before the end of the last fetched range a later
	// fetch starts again. It covers the time Amazon takes to put an event
	// into the report: a row that arrives late is still asked for. Rows
	// fetched twice are harmless (the ledger takes the same order twice as
	// one).
	Overlap time.Duration
	// WholeWindow: every fetch asks for the whole window, because the
	// report filters by a date that never changes (the order date), so an
	// order's later changes only show in a report that covers its order
	// date again.
	WholeWindow bool
	// Roles are the SP-API roles Amazon lets request the report (any one
	// of them); empty when campaignd's documentation has not confirmed them.
	Roles []string
}

// Report type names.
const (
	AllOrdersByLastUpdate = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
	AllOrdersByOrderDate  = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
	FBACustomerReturns    = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
	FBAShipments          = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"
	MFNReturns            = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
)

// reportTypes are the report types campaignd knows: each can be requested
// with createReport (not only scheduled), carries no restricted data (no
// Restricted Data Token needed), and has a layout internal/orders reads.
var reportTypes = []ReportType{
	// Amazon updates the All Orders reports within minutes of a change.
	{Name: AllOrdersByLastUpdate, Overlap: 2 * time.Hour, Roles: []string{"Inventory and Order Tracking"}},
	{Name: AllOrdersByOrderDate, WholeWindow: true, Roles: []string{"Inventory and Order Tracking"}},
	// FBA customer returns is a daily report: a return can reach it a day
	// after its return date.
	{Name: FBACustomerReturns, Overlap: 48 * time.Hour, Roles: []string{"Amazon Fulfillment"}},
	// A shipment reaches this report up to about 24 hours after it left.
	{Name: FBAShipments, Overlap: 48 * time.Hour, Roles: []string{"Amazon Fulfillment", "Inventory and Order Tracking", "Pricing"}},
	{Name: MFNReturns, Overlap: 24 * time.Hour},
}

// DefaultReports are fetched when the configuration names none: every
// order changed in the window, and the FBA returns that must stop a request.
var DefaultReports = []string{AllOrdersByLastUpdate, FBACustomerReturns}

// Lookup returns the report type called name.
func Lookup(name string) (ReportType, bool) {
	i := slices.IndexFunc(reportTypes, func(r ReportType) bool { return r.Name == name })
	if i < 0 {
		return ReportType{}, false
	}
	rt := reportTypes[i]
	rt.Roles = slices.Clone(rt.Roles)
	return rt, true
}

// ReportTypes returns the names of every report type campaignd can fetch.
func ReportTypes() []string {
	names := make([]string, len(reportTypes))
	for i, r := range reportTypes {
		names[i] = r.Name
	}
	return names
}
