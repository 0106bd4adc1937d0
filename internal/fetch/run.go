package fetch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Outcome is how one report stream ended in a run.
type Outcome string

// Outcomes of a run, per report stream.
const (
	// Ingested: the document was written into the inbox and Ingest took it.
	Ingested Outcome = "ingested"
	// NoData: Amazon had nothing for the range (CANCELLED, or a document
	// with nothing but a header). The range counts as fetched.
	NoData Outcome = "no_data"
	// Waiting: Amazon was still processing the report when the run stopped
	// waiting (or was stopped); the next run polls the same report.
	Waiting Outcome = "waiting"
	// Failed: see Err; the next run tries again.
	Failed Outcome = "failed"
)

// ReportResult is what a run did for one report stream.
type ReportResult struct {
	Key
	// ReportID and Range are the report worked on; empty when none could
	// be requested.
	ReportID string
	Range    Range
	// Resumed: the report was requested by an earlier run.
	Resumed bool
	Outcome Outcome
	// File is the document written into the inbox, if any. Ingest has had
	// it, so it may have moved on to the processed folder since.
	File string
	Err  error
}

// Result is what a run did, one entry per report stream in Keys order.
type Result struct {
	Reports []ReportResult
}

// Err joins the errors of every stream that did not end Ingested or
// NoData; nil when every report's data is in the ledger. `fetch --once`
// exits non-zero exactly when Err is not nil.
func (r Result) Err() error {
	var errs []error
	for _, rr := range r.Reports {
		if rr.Outcome == Ingested || rr.Outcome == NoData {
			continue
		}
		id := rr.ReportID
		if id == "" {
			id = "not requested"
		}
		errs = append(errs, fmt.Errorf("%s (report %s): %w", rr.Key, id, rr.Err))
	}
	return errors.Join(errs...)
}

// Run fetches every report stream once, all at the same time: it requests
// a report (or picks up the one an earlier run left pending), polls it
// until Amazon is done, downloads the document into the inbox, hands it to
// Ingest, and only then records the range as fetched. now is the run's
// time: it ends the requested range and stamps the state. The error is
// Result.Err(), or ErrBusy when a Run is already going on.
func (f *Fetcher) Run(ctx context.Context, now time.Time) (Result, error) {
	if !f.running.TryLock() {
		return Result{}, ErrBusy
	}
	defer f.running.Unlock()
	now = now.UTC().Truncate(time.Second)
	res := Result{Reports: make([]ReportResult, len(f.keys))}
	if err := f.checkInbox(); err != nil {
		for i, k := range f.keys {
			res.Reports[i] = ReportResult{Key: k, Outcome: Failed, Err: err}
		}
		return res, res.Err()
	}
	var wg sync.WaitGroup
	for i, k := range f.keys {
		wg.Go(func() { res.Reports[i] = f.fetchOne(ctx, k, now) })
	}
	wg.Wait()
	return res, res.Err()
}

// fetchOne runs one report stream and saves its state, whatever happened.
func (f *Fetcher) fetchOne(ctx context.Context, k Key, now time.Time) ReportResult {
	rr := ReportResult{Key: k}
	st, err := f.cfg.State.Load(ctx, k)
	if err != nil {
		rr.Outcome, rr.Err = Failed, fmt.Errorf("load fetch state: %w", err)
		return rr
	}
	st.Key = k
	st.LastAttempt = now
	err = f.advance(ctx, &st, &rr, now)
	if err != nil && ctx.Err() != nil && st.Pending != nil {
		err = fmt.Errorf("stopped before report %s was done (%w); the next fetch picks it up", st.Pending.ReportID, err)
	}
	f.settle(&st, &rr, err, now)
	// Save even when ctx is done: the pending report must be remembered.
	if serr := f.cfg.State.Save(context.WithoutCancel(ctx), st); serr != nil {
		rr.Outcome = Failed
		rr.Err = errors.Join(rr.Err, fmt.Errorf("save fetch state: %w", serr))
	}
	return rr
}

// settle records the run's end in the state and the result.
func (f *Fetcher) settle(st *ReportState, rr *ReportResult, err error, now time.Time) {
	if err == nil {
		st.LastSuccess, st.LastError, st.Failures = now, "", 0
		return
	}
	rr.Err = err
	rr.Outcome = Failed
	if st.Pending != nil && (errors.Is(err, ErrNotReady) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		rr.Outcome = Waiting
	}
	st.LastError = err.Error()
	st.Failures++
	f.log.Warn("report fetch did not finish", keyReport, st.Key.String(), keyReportID, rr.ReportID, "outcome", string(rr.Outcome), keyError, err)
}

// advance takes the stream as far as it can go in this run.
func (f *Fetcher) advance(ctx context.Context, st *ReportState, rr *ReportResult, now time.Time) error {
	rep, err := f.requestAndPoll(ctx, st, rr, now)
	if errors.Is(err, ErrNotFound) && rr.Resumed {
		// Amazon no longer knows the report an earlier run asked for.
		f.log.Warn("pending report unknown to Amazon, requesting a new one", keyReport, st.Key.String(), keyReportID, st.Pending.ReportID)
		st.Pending = nil
		rep, err = f.requestAndPoll(ctx, st, rr, now)
	}
	if err != nil {
		return err
	}
	switch rep.ProcessingStatus {
	case statusDone:
		return f.deliver(ctx, st, rr, rep, now)
	case statusCancelled:
		// Amazon cancels a report that has no data for the range.
		f.complete(st, rr, NoData, "", now)
		return nil
	default: // FATAL
		return f.fatal(ctx, st, rep)
	}
}

// requestAndPoll makes sure a report is pending, then polls it until
// Amazon is done with it.
func (f *Fetcher) requestAndPoll(ctx context.Context, st *ReportState, rr *ReportResult, now time.Time) (report, error) {
	if err := f.ensurePending(ctx, st, rr, now); err != nil {
		return report{}, err
	}
	return f.poll(ctx, st)
}

// ensurePending requests a report unless one is pending and young enough.
// The pending report is saved before anyone polls it.
func (f *Fetcher) ensurePending(ctx context.Context, st *ReportState, rr *ReportResult, now time.Time) error {
	if p := st.Pending; p != nil && now.Sub(p.RequestedAt) > f.cfg.PendingMaxAge {
		f.log.Warn("pending report too old, requesting a new one", keyReport, st.Key.String(), keyReportID, p.ReportID, "requested_at", p.RequestedAt)
		st.Pending = nil
	}
	if p := st.Pending; p != nil {
		rr.ReportID, rr.Range, rr.Resumed = p.ReportID, p.Range, true
		return nil
	}
	rr.Resumed = false
	rng := f.nextRange(*st, now)
	id, err := f.api.createReport(ctx, st.Key, rng)
	if err != nil {
		return err
	}
	st.Pending = &Pending{ReportID: id, Range: rng, RequestedAt: now}
	rr.ReportID, rr.Range = id, rng
	f.log.Info("report requested", keyReport, st.Key.String(), keyReportID, id, keyRange, rng.String())
	if err := f.cfg.State.Save(context.WithoutCancel(ctx), *st); err != nil {
		return fmt.Errorf("save fetch state: %w", err)
	}
	return nil
}

// nextRange is the data range of the next report: from the end of what is
// fetched, less the report type's overlap, to now (less endLag); never
// older than the window. The first report covers the whole window.
func (f *Fetcher) nextRange(st ReportState, now time.Time) Range {
	rt, _ := Lookup(st.ReportType)
	end := now.Add(-endLag)
	start := now.Add(-f.cfg.Window)
	if !rt.WholeWindow && !st.Fetched.End.IsZero() {
		if s := st.Fetched.End.Add(-rt.Overlap); s.After(start) {
			start = s
		}
	}
	if !start.Before(end) { // the clock went back: ask for the overlap again
		start = end.Add(-max(rt.Overlap, time.Hour))
	}
	return Range{Start: start.UTC(), End: end.UTC()}
}

// poll asks for the pending report's status, waiting PollFirst, then
// twice as long each time (at most PollMax), until Amazon is done with it
// or PollTimeout has passed.
func (f *Fetcher) poll(ctx context.Context, st *ReportState) (report, error) {
	p := st.Pending
	started := f.clock()
	wait := f.cfg.PollFirst
	for {
		rep, err := f.api.getReport(ctx, p.ReportID)
		if err != nil {
			return report{}, err
		}
		if rep.ReportType != "" && rep.ReportType != st.ReportType {
			return report{}, fmt.Errorf("%s: %w: report %s is a %s", OpGetReport, ErrRequest, p.ReportID, rep.ReportType)
		}
		p.Status = rep.ProcessingStatus
		if rep.ProcessingStatus != statusInQueue && rep.ProcessingStatus != statusInProgress {
			return rep, nil
		}
		if f.clock().Sub(started)+wait > f.cfg.PollTimeout {
			return report{}, fmt.Errorf("%w: report %s still %s after %s; the next fetch polls it again",
				ErrNotReady, p.ReportID, rep.ProcessingStatus, f.clock().Sub(started).Round(time.Second))
		}
		if err := f.sleep(ctx, wait); err != nil {
			return report{}, err
		}
		wait = min(2*wait, f.cfg.PollMax)
	}
}

// deliver downloads a DONE report's document into the inbox and ingests it.
func (f *Fetcher) deliver(ctx context.Context, st *ReportState, rr *ReportResult, rep report, now time.Time) error {
	if rep.ReportDocumentID == "" {
		st.Pending = nil
		return fmt.Errorf("%s: %w: report %s is DONE without a reportDocumentId", OpGetReport, ErrRequest, rep.ReportID)
	}
	doc, err := f.fetchDocument(ctx, st.Key, rep)
	if err != nil {
		return f.attemptFailed(ctx, st, err)
	}
	if doc.noData {
		f.complete(st, rr, NoData, "", now)
		return nil
	}
	rr.File = doc.Path
	doc.Range = st.Pending.Range
	f.log.Info("report document written", keyReport, st.Key.String(), keyReportID, rep.ReportID, keyFile, doc.Name, "bytes", doc.Size)
	if err := f.cfg.Ingest(ctx, doc.File); err != nil {
		return f.attemptFailed(ctx, st, fmt.Errorf("%w: %s: %w", ErrIngest, doc.Name, err))
	}
	f.complete(st, rr, Ingested, doc.Name, now)
	return nil
}

// attemptFailed counts a failed download or ingest of the pending report;
// after maxReportAttempts the report is given up, so the next run asks for
// a new one over the same range. An interrupted run does not count.
func (f *Fetcher) attemptFailed(ctx context.Context, st *ReportState, err error) error {
	if ctx.Err() != nil {
		return err
	}
	st.Pending.Attempts++
	if st.Pending.Attempts < maxReportAttempts {
		return err
	}
	id := st.Pending.ReportID
	st.Pending = nil
	return fmt.Errorf("%w (given up on report %s after %d attempts; the next fetch requests a new one)", err, id, maxReportAttempts)
}

// fatal gives up a FATAL report and returns Amazon's reason.
func (f *Fetcher) fatal(ctx context.Context, st *ReportState, rep report) error {
	rep.ReportID = st.Pending.ReportID
	st.Pending = nil
	reason := "Amazon gave no error document"
	if rep.ReportDocumentID != "" {
		text, err := f.errorDocument(ctx, rep.ReportDocumentID)
		switch {
		case err != nil:
			reason = "its error document could not be read: " + err.Error()
		case text != "":
			reason = "Amazon says: " + text
		default:
			reason = "its error document is empty"
		}
	}
	return fmt.Errorf("%w: report %s: %s; the next fetch requests a new one", ErrReportFatal, rep.ReportID, reason)
}

// complete records the pending report as done: its range joins what is
// fetched, and it is listed among the last reports.
func (f *Fetcher) complete(st *ReportState, rr *ReportResult, o Outcome, file string, now time.Time) {
	p := st.Pending
	st.Pending = nil
	rr.Outcome = o
	st.Fetched = extend(st.Fetched, p.Range)
	st.Ingested = append(st.Ingested, Done{ReportID: p.ReportID, Range: p.Range, At: now, File: file})
	if n := len(st.Ingested); n > KeepDone {
		st.Ingested = append([]Done(nil), st.Ingested[n-KeepDone:]...)
	}
	f.log.Info("report fetched", keyReport, st.Key.String(), keyReportID, p.ReportID, "outcome", string(o), keyRange, p.Range.String())
}

// extend joins r to what is fetched. A range that leaves a gap after what
// is fetched (only possible when the gap is older than the window, which
// nextRange never asks for) starts a new span.
func extend(fetched, r Range) Range {
	if fetched.IsZero() || r.Start.After(fetched.End) {
		return r
	}
	if r.Start.Before(fetched.Start) {
		fetched.Start = r.Start
	}
	if r.End.After(fetched.End) {
		fetched.End = r.End
	}
	return fetched
}
