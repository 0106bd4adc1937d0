package fetch

import "errors"

// ErrAuth is returned when Amazon refused a fresh access token (HTTP 401 or
// 403): the app's authorization was revoked, or the app lacks a role that
// covers the report type in Seller Central. (When no token could be had at
// all, the error is the token source's, e.g. lwa's.)
var ErrAuth = errors.New("not authorised")

// ErrTransient is returned when Amazon kept answering 429 or 5xx, or the
// network failed, through every retry. The next run tries again.
var ErrTransient = errors.New("temporary failure")

// ErrRequest is returned when Amazon refused a request as invalid (HTTP 400
// or another 4xx), or answered with something the model does not allow.
var ErrRequest = errors.New("request refused")

// ErrNotFound is returned when Amazon does not know a report or document
// (HTTP 404).
var ErrNotFound = errors.New("not found")

// ErrNotReady is returned when a report was still being processed when the
// run stopped waiting for it. The next run polls the same report.
var ErrNotReady = errors.New("report not ready yet")

// ErrReportFatal is returned when Amazon ended a report with FATAL. The
// error carries Amazon's error document when there is one; the next run
// requests a new report for the same range.
var ErrReportFatal = errors.New("report ended FATAL at Amazon")

// ErrDocument is returned when a report document could not be downloaded
// or is damaged: the presigned URL kept being refused (expired), the body
// was cut short, the gzip stream is broken, or it is larger than allowed.
var ErrDocument = errors.New("report document unusable")

// ErrIngest is returned when the Ingest hook refused a downloaded file. The
// file's data is not recorded as fetched.
var ErrIngest = errors.New("ingest failed")

// ErrBusy is returned by Run when another Run of the same Fetcher has not
// finished.
var ErrBusy = errors.New("a fetch is already running")
